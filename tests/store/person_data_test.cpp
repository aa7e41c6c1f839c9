// A person's data on request: everything the store holds about them in one export, and an erasure
// that leaves nothing personal but keeps what the programme must keep — and touches nobody else.
#include "store/person_data.hpp"

#include <gtest/gtest.h>

#include "store/inbox_repository.hpp"
#include "store/outbox_repository.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::store {
namespace {

NewOutboxMessage Out(const std::string& key, const std::string& channel, const std::string& to,
                     std::optional<std::int64_t> person) {
  NewOutboxMessage m;
  m.idempotency_key = key;
  m.channel = channel;
  m.recipient = to;
  m.kind = "reminder";
  m.payload = R"({"kind":"text","text":"合同签订提醒"})";
  m.person_id = person;
  return m;
}

class PersonDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& c = db_.Conn();
    c.Exec(
        "INSERT INTO people (id, display_name, role, status, preferred_channel, created_at, updated_at) VALUES "
        "(7, '张三', 'researcher', 'verified', 'sms', 1, 1), (8, '李四', 'researcher', 'verified', NULL, 1, 1);"
        "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES "
        "(7, 'mobile', '+8613912345678', 'verified', 1), (7, 'email', 'zhangsan@hust.edu.cn', 'unverified', 1), "
        "(8, 'mobile', '+8613700000000', 'verified', 1);"
        "INSERT INTO channel_consents (person_id, channel, state, changed_at) VALUES (7, 'email', 'opted_out', 1);"
        "INSERT INTO suppressions (channel, address, reason, created_at) VALUES "
        "('email', 'zhangsan@hust.edu.cn', 'opt_out', 1);"
        "INSERT INTO researchers (person_id, title, eligibility, fields, keywords, bio, status, created_at, "
        "updated_at) "
        "VALUES (7, '教授', 'university_staff', '[\"materials\"]', '[\"超疏水涂层\"]', '覆冰研究二十年', 'verified', "
        "1, "
        "1), (8, NULL, 'university_staff', '[\"energy\"]', '[]', '电池', 'verified', 1, 1);"
        "INSERT INTO conversations (person_id, flow, state, updated_at) VALUES "
        "(7, 'proposal', '{\"form\":\"proposal\",\"values\":{\"approach\":\"喷涂\"}}', 1);");
    InboxRepository::Begin(c, {"sms", "k1", "+8613912345678", R"({"text":"我有意向"})", 7}, test::kFakeEpochMillis);
    InboxRepository::Begin(c, {"sms", "k2", "+8613700000000", R"({"text":"2"})", 8}, test::kFakeEpochMillis);
    const auto first = OutboxRepository::Enqueue(c, Out("o1", "sms", "+8613912345678", 7), test::kFakeEpochMillis).id;
    c.Exec("UPDATE outbox SET status = 'sent' WHERE id = " + std::to_string(first));
    OutboxRepository::Enqueue(c, Out("o2", "email", "zhangsan@hust.edu.cn", std::nullopt), test::kFakeEpochMillis);
    OutboxRepository::Enqueue(c, Out("o3", "sms", "+8613700000000", 8), test::kFakeEpochMillis);
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
};

TEST_F(PersonDataTest, ALocaleIsThePersonsOwnAndNoneForSomeoneUnknown) {
  db_.Conn().Exec("UPDATE people SET locale = 'en' WHERE id = 8");
  EXPECT_EQ(PersonLocale(db_.Conn(), 7, "en"), "zh-CN");  // the column's default
  EXPECT_EQ(PersonLocale(db_.Conn(), 8, "zh-CN"), "en");
  EXPECT_EQ(PersonLocale(db_.Conn(), 99, "fallback"), "fallback");
}

TEST_F(PersonDataTest, AnExportHoldsEverythingAboutThePersonAndNothingAboutOthers) {
  EXPECT_EQ(PersonByAddress(db_.Conn(), "13912345678"), 7) << "a bare mobile, as people write it";
  EXPECT_EQ(PersonByAddress(db_.Conn(), "ZhangSan@HUST.edu.cn"), 7);
  EXPECT_FALSE(PersonByAddress(db_.Conn(), "13811111111"));
  EXPECT_FALSE(ExportPerson(db_.Conn(), 99));

  const auto doc = ExportPerson(db_.Conn(), 7);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["person"]["display_name"], "张三");
  EXPECT_EQ((*doc)["identities"].size(), 2U);
  EXPECT_EQ((*doc)["researcher"][0]["bio"], "覆冰研究二十年");
  EXPECT_EQ((*doc)["researcher"][0]["keywords"], nlohmann::json::array({"超疏水涂层"})) << "JSON columns as JSON";
  EXPECT_EQ((*doc)["conversation"][0]["state"]["values"]["approach"], "喷涂");
  EXPECT_EQ((*doc)["messages_received"].size(), 1U);
  EXPECT_EQ((*doc)["messages_received"][0]["payload"]["text"], "我有意向");
  EXPECT_EQ((*doc)["messages_sent"].size(), 1U) << "the ones linked to the person";
  EXPECT_EQ((*doc)["channel_consents"][0]["state"], "opted_out");
  EXPECT_EQ(doc->dump().find("李四"), std::string::npos);
  EXPECT_EQ(doc->dump().find("13700000000"), std::string::npos);
}

TEST_F(PersonDataTest, AnErasureLeavesNothingPersonalKeepsTheRecordsAndTouchesNobodyElse) {
  const auto e = ErasePerson(db_.Conn(), 7, "cli", test::kFakeEpochMillis + 1);
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.rows.at("identities"), 2);
  EXPECT_EQ(e.rows.at("outbox"), 2) << "by person and by address";

  EXPECT_EQ(Scalar("SELECT count(*) FROM people WHERE id = 7 AND display_name IS NULL AND role = 'unknown'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM identities WHERE person_id = 7"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM channel_consents WHERE person_id = 7"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM conversations WHERE person_id = 7"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM researchers WHERE person_id = 7 AND bio = '' AND keywords = '[]' AND "
                   "title IS NULL AND status = 'refused'"),
            1)
      << "no more matches";
  EXPECT_EQ(Scalar("SELECT count(*) FROM inbox WHERE person_id = 7 AND payload = '{}' AND sender IS NULL"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE recipient LIKE '%12345678%' OR recipient LIKE 'zhangsan%'"), 0)
      << "addresses masked";
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE idempotency_key = 'o2' AND status = 'cancelled'"), 1)
      << "nothing more goes to them";
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE idempotency_key = 'o1' AND status = 'sent'"), 1)
      << "history keeps its states";
  EXPECT_EQ(Scalar("SELECT count(*) FROM suppressions WHERE address = 'zhangsan@hust.edu.cn'"), 1)
      << "an opt-out is honoured after erasure";
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_log WHERE action = 'person.erase' AND target = 'person:7'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM transitions WHERE entity = 'person' AND entity_id = 7 AND to_state = "
                   "'erased'"),
            1);

  // Nobody else.
  EXPECT_EQ(Scalar("SELECT count(*) FROM people WHERE id = 8 AND display_name = '李四' AND role = 'researcher'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM identities WHERE person_id = 8"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM inbox WHERE person_id = 8 AND payload LIKE '%2%'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE idempotency_key = 'o3' AND status = 'pending' AND recipient = "
                   "'+8613700000000'"),
            1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM researchers WHERE person_id = 8 AND bio = '电池'"), 1);

  // Nothing left to find; a second erasure finds the empty row and changes nothing personal.
  EXPECT_FALSE(PersonByAddress(db_.Conn(), "13912345678"));
  const auto doc = ExportPerson(db_.Conn(), 7);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->dump().find("张三"), std::string::npos);
  EXPECT_EQ(doc->dump().find("覆冰"), std::string::npos);
  EXPECT_FALSE(ErasePerson(db_.Conn(), 99, "cli", test::kFakeEpochMillis).found);
}

}  // namespace
}  // namespace duijie::store
