// SMS replies against a real (temporary) database: opt-out, answers to pushes with 0, 1 and 3
// open pushes, and everything else to the conversation.
#include "dialogs/sms_replies.hpp"

#include <gtest/gtest.h>

#include "store/outbox_repository.hpp"
#include "store/suppressions.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

constexpr const char* kNumber = "+8613711112222";

class SmsRepliesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("某公司", "420100", "new_materials");
    auto& db = db_.Conn().Db();
    db.exec("INSERT INTO people (id, role, status, created_at, updated_at) VALUES (2, 'researcher', 'verified', 0, 0)");
    db.exec("INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (2, 'mobile', '" +
            std::string(kNumber) + "', 'verified', 0)");
  }
  // A need pushed to the researcher `hours_ago`, with its reply code.
  void Push(int id, const std::string& title, const std::string& code, int hours_ago) {
    const auto at = std::to_string(ToUnixMillis(clock_.Now()) - std::int64_t{hours_ago} * 3'600'000);
    auto& db = db_.Conn().Db();
    db.exec("INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at) VALUES (" +
            std::to_string(id) + ", 1, 1, '" + title + "', 'published', 0, 0)");
    db.exec(
        "INSERT INTO pushes (id, need_id, researcher_person_id, reply_code, status, created_at, updated_at) VALUES (" +
        std::to_string(id) + ", " + std::to_string(id) + ", 2, '" + code + "', 'sent', " + at + ", " + at + ")");
  }
  SmsReplyResult Reply(const std::string& text) {
    return ProcessSmsReply(db_.Conn(), conversations_, Catalogue::Embedded(),
                           {kNumber, text, "tencent", "k" + std::to_string(++n_), ""}, clock_.Now());
  }
  std::string PushStatus(int id) {
    return db_.Conn().Db().execAndGet("SELECT status FROM pushes WHERE id = " + std::to_string(id)).getString();
  }
  static std::string Text(const store::NewOutboxMessage& m) { return nlohmann::json::parse(m.payload)["text"]; }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};
  Conversations conversations_{Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded()};
  int n_ = 0;
};

TEST_F(SmsRepliesTest, OptOutAtOnceAndConfirmedOnce) {
  auto r = Reply("ＴＤ");
  EXPECT_EQ(r.route, SmsReplyRoute::kOptOut);
  ASSERT_EQ(r.outbox.size(), 1U);
  EXPECT_EQ(r.outbox[0].kind, "opt_out_confirmation");
  EXPECT_EQ(r.outbox[0].recipient, kNumber);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM suppressions WHERE address = '+8613711112222'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM channel_consents WHERE person_id = 2 AND state = 'opted_out'"), 1);
  r = Reply("退订");
  EXPECT_EQ(r.route, SmsReplyRoute::kAlreadyOptedOut);
  EXPECT_TRUE(r.outbox.empty());
}

TEST_F(SmsRepliesTest, AnOptOutIsTakenBackButACarriersBlacklistStays) {
  EXPECT_EQ(Reply("订阅").route, SmsReplyRoute::kConversation) << "nothing to take back";
  Reply("TD");
  const auto back = Reply("恢复短信");
  EXPECT_EQ(back.route, SmsReplyRoute::kResubscribed);
  ASSERT_EQ(back.outbox.size(), 1U);
  EXPECT_EQ(Text(back.outbox[0]), Catalogue::Embedded().Text("zh-CN", "sms.resubscribed"));
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM suppressions"), 0);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM channel_consents WHERE person_id = 2 AND state = 'subscribed'"), 1);
  Reply("TD");
  EXPECT_EQ(Reply("START").route, SmsReplyRoute::kResubscribed);  // as abroad
  store::Suppressions::Add(db_.Conn(), "sms", kNumber, "blacklist", "carrier", 0);
  EXPECT_NE(Reply("START").route, SmsReplyRoute::kResubscribed);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM suppressions WHERE reason = 'blacklist'"), 1);
}

TEST_F(SmsRepliesTest, NoOpenPushMeansTheDigitGoesToTheConversation) {
  Push(1, "旧需求", "A7K", 80);  // older than 72 hours: closed for answers
  const auto r = Reply("1");
  EXPECT_EQ(r.route, SmsReplyRoute::kConversation);
  EXPECT_EQ(PushStatus(1), "sent");
}

TEST_F(SmsRepliesTest, OneOpenPushIsAnsweredWithoutACode) {
  Push(1, "风电叶片防冰", "A7K", 2);
  auto r = Reply("2 没时间");
  EXPECT_EQ(r.route, SmsReplyRoute::kPushAnswered);
  EXPECT_EQ(PushStatus(1), "declined");
  EXPECT_EQ(db_.Conn().Db().execAndGet("SELECT decline_reason FROM pushes WHERE id = 1").getString(), "no_time");
  ASSERT_EQ(r.outbox.size(), 1U);
  EXPECT_NE(Text(r.outbox[0]).find("风电叶片防冰"), std::string::npos);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'push' AND to_state = 'declined'"), 1);
}

TEST_F(SmsRepliesTest, ADeclineReasonAfterABareTwoJoinsItAndNotMyFieldIsCounted) {
  Push(1, "风电叶片防冰", "A7K", 2);
  Reply("2");
  EXPECT_TRUE(db_.Conn().Db().execAndGet("SELECT decline_reason FROM pushes WHERE id = 1").isNull());
  const auto r = Reply("2 专业不对口");
  ASSERT_EQ(r.outbox.size(), 1U);
  EXPECT_EQ(Text(r.outbox[0]), Catalogue::Embedded().Text("zh-CN", "sms.decline_reason_noted"));
  EXPECT_EQ(db_.Conn().Db().execAndGet("SELECT decline_reason FROM pushes WHERE id = 1").getString(), "not_my_field");
}

// Extension codes on: the SMS a reply came back on names the push it answers.
TEST_F(SmsRepliesTest, AReplyOnAnSmssExtensionCodeAnswersThatSmssPush) {
  Push(1, "风电叶片防冰", "A7K", 5);
  Push(2, "锂电池低温", "B3M", 3);
  Push(3, "光伏清洗", "C9P", 1);
  // Push 1 went alone; pushes 2 and 3 in one digest (3 carried by 2's SMS).
  const auto sent = [&](int push, const std::string& status, const std::string& extra = "") {
    store::NewOutboxMessage m;
    m.idempotency_key = "push:" + std::to_string(push);
    m.channel = "sms";
    m.recipient = kNumber;
    m.kind = "match_push";
    m.payload = "{}";
    const auto id = store::OutboxRepository::Enqueue(db_.Conn(), m, ToUnixMillis(clock_.Now()) - 3'600'000).id;
    // Finished when it was queued, as the dispatcher records a send.
    db_.Conn().Db().exec("UPDATE outbox SET status = '" + status + "', finished_at = updated_at" + extra +
                         " WHERE id = " + std::to_string(id));
    return id;
  };
  const auto alone = sent(1, "sent");
  const auto digest = sent(2, "delivered");
  sent(3, "cancelled", ", merged_into = " + std::to_string(digest));
  const auto on = [&](const std::string& text, std::int64_t outbox_id) {
    return ProcessSmsReply(db_.Conn(), conversations_, Catalogue::Embedded(),
                           {kNumber, text, "tencent", "e" + std::to_string(++n_), store::ExtendCode(outbox_id, 4)},
                           clock_.Now());
  };
  EXPECT_EQ(store::ExtendCode(12345, 4), "2345");
  EXPECT_EQ(store::ExtendCode(7, 3), "007");
  // Three open: a bare "1" would be asked about; on the digest's SMS the question names its two.
  EXPECT_EQ(Reply("1").route, SmsReplyRoute::kAskedWhichPush);
  const auto which = on("1", digest);
  ASSERT_EQ(which.route, SmsReplyRoute::kAskedWhichPush);
  EXPECT_NE(Text(which.outbox.at(0)).find("B3M"), std::string::npos);
  EXPECT_NE(Text(which.outbox.at(0)).find("C9P"), std::string::npos);
  EXPECT_EQ(Text(which.outbox.at(0)).find("A7K"), std::string::npos);
  // On push 1's SMS it answers push 1.
  EXPECT_EQ(on("1", alone).route, SmsReplyRoute::kPushAnswered);
  EXPECT_EQ(PushStatus(1), "interested");
  // The digest's SMS carried two: the code decides, or the person is asked.
  EXPECT_EQ(on("2", digest).route, SmsReplyRoute::kAskedWhichPush);
  EXPECT_EQ(on("2 C9P", digest).route, SmsReplyRoute::kPushAnswered);
  EXPECT_EQ(PushStatus(3), "declined");
  // One left open in the digest: now its SMS names it.
  EXPECT_EQ(on("1", digest).route, SmsReplyRoute::kPushAnswered);
  EXPECT_EQ(PushStatus(2), "interested");
  // An extension code that names no SMS of ours changes nothing by itself.
  Push(4, "储能热管理", "D2Q", 1);
  Push(5, "膜电极", "E5R", 1);
  EXPECT_EQ(on("1", 9999).route, SmsReplyRoute::kAskedWhichPush);
}

TEST(DeclineReason, TheProgrammesCategoriesElseTheText) {
  EXPECT_EQ(DeclineReason("不是我的领域"), "not_my_field");
  EXPECT_EQ(DeclineReason("Not my field"), "not_my_field");
  EXPECT_EQ(DeclineReason("最近太忙"), "no_time");
  EXPECT_EQ(DeclineReason(""), "");
  EXPECT_EQ(DeclineReason("企业太远"), "企业太远");
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "远";
  const std::string cut = DeclineReason(long_text);
  EXPECT_LE(cut.size(), 200U);
  EXPECT_EQ(cut.size() % 3, 0U) << "never a split character";
}

TEST_F(SmsRepliesTest, ThreeOpenPushesAskOnceThenTheCodeDecides) {
  Push(1, "风电叶片防冰", "A7K", 1);
  Push(2, "锂电池热失控", "B3M", 2);
  Push(3, "污水脱氮", "C4P", 3);
  auto r = Reply("1");
  EXPECT_EQ(r.route, SmsReplyRoute::kAskedWhichPush);
  ASSERT_EQ(r.outbox.size(), 1U);
  const auto question = Text(r.outbox[0]);
  for (const char* code : {"A7K", "B3M", "C4P"}) EXPECT_NE(question.find(code), std::string::npos) << question;
  EXPECT_EQ(PushStatus(1), "sent");
  r = Reply("1 b3m");
  EXPECT_EQ(r.route, SmsReplyRoute::kPushAnswered);
  EXPECT_EQ(PushStatus(2), "interested");
  EXPECT_EQ(PushStatus(1), "sent");
  EXPECT_EQ(PushStatus(3), "sent");
}

TEST_F(SmsRepliesTest, OtherTextIsAConversationAnsweredBySms) {
  const auto r = Reply("你好");
  EXPECT_EQ(r.route, SmsReplyRoute::kConversation);
  ASSERT_FALSE(r.outbox.empty());
  EXPECT_EQ(r.outbox[0].channel, "sms");
  EXPECT_EQ(r.outbox[0].kind, "reply");
  EXPECT_EQ(r.outbox[0].idempotency_key, "sms:k1:reply:0");
}

}  // namespace
}  // namespace duijie::dialogs
