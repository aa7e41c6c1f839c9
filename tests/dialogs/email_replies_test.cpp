// Mail replies against a real (temporary) database: unsubscribe words, answers to pushes, the
// conversation's answer threaded under the mail, and bounces.
#include "dialogs/email_replies.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr const char* kAddress = "li.si@whu.edu.cn";

class EmailRepliesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise();
    auto& db = db_.Conn().Db();
    db.exec("INSERT INTO people (id, role, status, created_at, updated_at) VALUES (2, 'researcher', 'verified', 0, 0)");
    db.exec("INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (2, 'email', '" +
            std::string(kAddress) + "', 'verified', 0)");
  }
  void Push(int id, const std::string& code) {
    const auto at = std::to_string(ToUnixMillis(clock_.Now()));
    auto& db = db_.Conn().Db();
    db.exec("INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at) VALUES (" +
            std::to_string(id) + ", 1, 1, '需求" + std::to_string(id) + "', 'published', 0, 0)");
    db.exec(
        "INSERT INTO pushes (id, need_id, researcher_person_id, reply_code, status, created_at, updated_at) "
        "VALUES (" +
        std::to_string(id) + ", " + std::to_string(id) + ", 2, '" + code + "', 'sent', " + at + ", " + at + ")");
  }
  EmailResult Mail(const std::string& text, const std::string& address = kAddress) {
    EmailIn in;
    in.address = address;
    in.text = text;
    in.subject = "有一项企业技术需求与您的专长相符";
    in.message_id = "m" + std::to_string(++n_) + "@whu.edu.cn";
    in.references = {"duijie.o1.x@notify.example.cn"};
    in.key = "mid:" + in.message_id;
    return ProcessEmail(db_.Conn(), conversations_, Catalogue::Embedded(), in, clock_.Now());
  }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};
  Conversations conversations_{Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded()};
  int n_ = 0;
};

TEST_F(EmailRepliesTest, UnsubscribeWordsStopEmailOnly) {
  EXPECT_FALSE(IsEmailUnsubscribe("N"));
  EXPECT_FALSE(IsEmailUnsubscribe("退订的规则是什么"));
  EXPECT_TRUE(IsEmailUnsubscribe(" 退订。"));
  EXPECT_TRUE(IsEmailUnsubscribe("Unsubscribe"));
  auto r = Mail("退订");
  EXPECT_EQ(r.route, EmailRoute::kUnsubscribed);
  EXPECT_TRUE(r.outbox.empty());
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM suppressions WHERE channel = 'email' AND address = 'li.si@whu.edu.cn'"),
            1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM channel_consents WHERE person_id = 2 AND channel = 'email'"), 1);
  EXPECT_EQ(Mail("unsubscribe").route, EmailRoute::kAlreadyUnsubscribed);
}

TEST_F(EmailRepliesTest, AnswersToPushesByMail) {
  Push(7, "A7K");
  auto r = Mail("有意向");
  EXPECT_EQ(r.route, EmailRoute::kPushAnswered);
  ASSERT_EQ(r.outbox.size(), 1U);
  EXPECT_EQ(r.outbox[0].channel, "email");
  EXPECT_NE(json::parse(r.outbox[0].payload)["text"].get<std::string>().find("需求7"), std::string::npos);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE id = 7 AND status = 'interested'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'push' AND channel = 'email'"), 1);
  // Two open: the code picks one; without it the person is asked which.
  Push(8, "B3M");
  Push(9, "C4P");
  EXPECT_EQ(Mail("2").outbox.size(), 1U);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE status = 'sent'"), 2);
  EXPECT_EQ(Mail("2 C4P").route, EmailRoute::kPushAnswered);
  EXPECT_EQ(db_.Scalar("SELECT status = 'declined' FROM pushes WHERE id = 9"), 1);
}

TEST_F(EmailRepliesTest, TheConversationsAnswerIsOneMailThreadedUnderTheMail) {
  auto r = Mail("菜单");
  EXPECT_EQ(r.route, EmailRoute::kConversation);
  ASSERT_EQ(r.outbox.size(), 1U);
  const json p = json::parse(r.outbox[0].payload)["params"];
  EXPECT_EQ(p["email_in_reply_to"], "m1@whu.edu.cn");
  EXPECT_EQ(p["email_references"], json::array({"duijie.o1.x@notify.example.cn"}));
  EXPECT_EQ(p["email_subject"], "有一项企业技术需求与您的专长相符");
  EXPECT_EQ(r.outbox[0].recipient, kAddress);
  EXPECT_EQ(r.outbox[0].idempotency_key, "email:mid:m1@whu.edu.cn:reply");
}

TEST_F(EmailRepliesTest, APermanentBounceFailsTheMessageAndSuppressesTheAddress) {
  store::NewOutboxMessage m;
  m.idempotency_key = "k";
  m.channel = "email";
  m.recipient = kAddress;
  m.kind = "match_push";
  m.payload = R"({"kind":"text","text":"x"})";
  m.fallback = {{"sms", "+8613711112222"}};
  const auto id = store::OutboxRepository::Enqueue(db_.Conn(), m, 0).id;
  db_.Conn().Db().exec("UPDATE outbox SET status = 'sent', provider_ref = 'duijie.o1.x@n.cn' WHERE id = " +
                       std::to_string(id));
  EXPECT_TRUE(ProcessBounce(db_.Conn(), id, "", "5.1.1", clock_.Now()));
  EXPECT_EQ(db_.Scalar("SELECT status = 'failed' FROM outbox WHERE id = " + std::to_string(id)), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE channel = 'sms'"), 1) << "the fallback takes over";
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM suppressions WHERE address = 'li.si@whu.edu.cn' AND reason = 'bounce'"),
            1);
  EXPECT_FALSE(ProcessBounce(db_.Conn(), id, "", "5.1.1", clock_.Now())) << "the same bounce twice changes nothing";
  // A bounce for a message whose send is still being recorded asks to be taken again later.
  m.idempotency_key = "k2";
  const auto sending = store::OutboxRepository::Enqueue(db_.Conn(), m, 0).id;
  db_.Conn().Db().exec("UPDATE outbox SET status = 'sending' WHERE id = " + std::to_string(sending));
  EXPECT_THROW((void)ProcessBounce(db_.Conn(), sending, "", "5.1.1", clock_.Now()), BounceTooEarly);
}

}  // namespace
}  // namespace duijie::dialogs
