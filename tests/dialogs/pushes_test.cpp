// Match pushes against a real (temporary) database: one per chosen researcher on their channel
// with the rest as fallback, planned once per need, answered by SMS with the reply code, and
// followed up by one reminder, then closed.
#include "dialogs/pushes.hpp"

#include <gtest/gtest.h>

#include "dialogs/proposals.hpp"
#include "dialogs/reply_grammar.hpp"
#include "dialogs/sms_replies.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class PushesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("某风电公司");
    auto& db = db_.Conn().Db();
    db.exec(
        "INSERT INTO needs (id, enterprise_id, programme_id, title, field, amount_wan, stage, created_at, updated_at) "
        "VALUES (7, 1, 1, '风机叶片冬季覆冰', 'energy', 20, 'published', 0, 0)");
    // 2: mobile and email; 3: email only, prefers email; 4: nowhere to reach; 5: prefers WeCom.
    for (int id = 2; id <= 5; ++id) {
      db.exec("INSERT INTO people (id, role, status, preferred_channel, created_at, updated_at) VALUES (" +
              std::to_string(id) + ", 'researcher', 'verified', " +
              (id == 3   ? "'email'"
               : id == 5 ? "'wecom'"
                         : "NULL") +
              ", 0, 0)");
    }
    db.exec(
        "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES "
        "(2, 'mobile', '+8613711112222', 'verified', 0), (2, 'email', 'r2@hust.edu.cn', 'unverified', 0), "
        "(3, 'email', 'r3@whu.edu.cn', 'verified', 0), "
        "(5, 'mobile', '+8613733334444', 'verified', 0), (5, 'wecom_userid', 'wangwu', 'verified', 0)");
  }
  std::vector<store::NewOutboxMessage> Push(std::int64_t need, std::vector<PushCandidate> candidates) {
    return CreatePushes(db_.Conn(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), need, candidates,
                        random_, clock_.Now());
  }
  static std::vector<PushCandidate> Candidates() {
    return {{2, 9.5, {"风机叶片", "覆冰"}, "energy"},
            {3, 8.1, {}, "energy"},
            {4, 7.0, {"覆冰"}, ""},
            {5, 6.2, {"叶片"}, ""}};
  }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};
  test::FakeRandom random_{{0.1, 0.2, 0.3}};
};

TEST_F(PushesTest, OnePushEachOnTheirChannelWithTheRestAsFallback) {
  const auto msgs = Push(7, Candidates());
  ASSERT_EQ(msgs.size(), 3U) << "researcher 4 has no address";
  EXPECT_EQ(msgs[0].channel, "sms");
  EXPECT_EQ(msgs[0].recipient, "+8613711112222");
  ASSERT_EQ(msgs[0].fallback.size(), 1U);
  EXPECT_EQ(msgs[0].fallback[0].channel, "email");
  EXPECT_EQ(msgs[1].channel, "email");
  EXPECT_EQ(msgs[1].recipient, "r3@whu.edu.cn");
  EXPECT_EQ(msgs[2].channel, "wecom");
  EXPECT_EQ(msgs[2].fallback[0].channel, "sms");
  const json sms = json::parse(msgs[0].payload);
  EXPECT_EQ(sms["template_id"], "match_push");
  EXPECT_EQ(sms["params"]["title"], "风机叶片冬季覆冰");
  EXPECT_EQ(sms["params"]["amount"], "20");
  EXPECT_EQ(sms["params"]["why"], "匹配：风机叶片、覆冰");
  const std::string code = sms["params"]["code"];
  EXPECT_TRUE(IsReplyCode(code));
  EXPECT_NE(sms["text"].get<std::string>().find("风机叶片冬季覆冰"), std::string::npos);
  EXPECT_NE(sms["text"].get<std::string>().find(code), std::string::npos);
  // Without phrases in common the field is the explanation.
  EXPECT_NE(json::parse(msgs[1].payload)["text"].get<std::string>().find("领域："), std::string::npos);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE need_id = 7 AND status = 'sent'"), 3);
  EXPECT_EQ(db_.Scalar("SELECT planned FROM push_rounds WHERE need_id = 7"), 3);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'push' AND to_state = 'sent'"), 3);
  EXPECT_TRUE(Push(7, Candidates()).empty()) << "a need is planned once";
}

TEST_F(PushesTest, CodesDoNotRepeatAmongAResearchersOpenPushes) {
  db_.Conn().Db().exec(
      "INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at) VALUES "
      "(8, 1, 1, '第二个需求', 'published', 0, 0)");
  // The fake randomness gives the same code again: the second push must take another one.
  test::FakeRandom same{{0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.9, 0.9, 0.9}};
  const auto first = CreatePushes(db_.Conn(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), 7,
                                  std::vector<PushCandidate>{{2, 1, {"覆冰"}, ""}}, same, clock_.Now());
  const auto second = CreatePushes(db_.Conn(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), 8,
                                   std::vector<PushCandidate>{{2, 1, {"覆冰"}, ""}}, same, clock_.Now());
  ASSERT_EQ(first.size(), 1U);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_NE(json::parse(first[0].payload)["params"]["code"], json::parse(second[0].payload)["params"]["code"]);
}

TEST_F(PushesTest, OnlyPublishedNeedsArePushed) {
  db_.Conn().Db().exec("UPDATE needs SET stage = 'submitted' WHERE id = 7");
  EXPECT_TRUE(NeedsToPush(db_.Conn(), 10).empty());
  EXPECT_TRUE(Push(7, Candidates()).empty());
  db_.Conn().Db().exec("UPDATE needs SET stage = 'published' WHERE id = 7");
  EXPECT_EQ(NeedsToPush(db_.Conn(), 10), std::vector<std::int64_t>{7});
  (void)Push(7, {});
  EXPECT_TRUE(NeedsToPush(db_.Conn(), 10).empty()) << "a round with nobody to push is still a round";
}

TEST_F(PushesTest, TheResearcherAnswersBySmsWithTheCode) {
  const auto msgs = Push(7, Candidates());
  const std::string code = json::parse(msgs[0].payload)["params"]["code"];
  const Conversations conversations(Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded());
  const auto r = ProcessSmsReply(db_.Conn(), conversations, Catalogue::Embedded(),
                                 {"+8613711112222", "1 " + code, "tencent", "k1", ""}, clock_.Now());
  EXPECT_EQ(r.route, SmsReplyRoute::kPushAnswered);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE researcher_person_id = 2 AND status = 'interested'"), 1);
}

TEST_F(PushesTest, OneReminderThenClosed) {
  auto msgs = Push(7, Candidates());
  // The outbox rows the reminders go back to.
  for (const auto& m : msgs) store::OutboxRepository::Enqueue(db_.Conn(), m, ToUnixMillis(clock_.Now()));
  clock_.Advance(47h);
  auto f = FollowUpPushes(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 48h, 96h);
  EXPECT_TRUE(f.reminders.empty());
  clock_.Advance(2h);
  f = FollowUpPushes(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 48h, 96h);
  ASSERT_EQ(f.reminders.size(), 3U);
  EXPECT_EQ(f.reminders[0].channel, "sms");
  EXPECT_EQ(f.reminders[0].kind, "reminder");
  EXPECT_EQ(json::parse(f.reminders[0].payload)["template_id"], "reminder");
  EXPECT_EQ(f.closed, 0);
  EXPECT_TRUE(FollowUpPushes(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 48h, 96h).reminders.empty())
      << "one reminder only";
  clock_.Advance(48h);
  f = FollowUpPushes(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 48h, 96h);
  EXPECT_EQ(f.closed, 3);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE status = 'unanswered'"), 3);
}

TEST_F(PushesTest, AfterSayingYesTheNextMessageIsTheProposalAndTheEnterpriseGetsOneDigest) {
  auto& db = db_.Conn().Db();
  db.exec(
      "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES "
      "(1, 'wecom_userid', 'boss', 'verified', 0)");
  db.exec("UPDATE people SET display_name = '王五' WHERE id = 5");
  const auto msgs = Push(7, Candidates());
  const std::string code2 = json::parse(msgs[0].payload)["params"]["code"];
  const std::string code5 = json::parse(msgs[2].payload)["params"]["code"];
  const Conversations conversations(Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded());
  const auto sms = [&](const std::string& number, const std::string& text) {
    static int n = 0;
    return ProcessSmsReply(db_.Conn(), conversations, Catalogue::Embedded(),
                           {number, text, "tencent", "p" + std::to_string(++n), ""}, clock_.Now());
  };
  // Not interested yet: a long message is a conversation, not a proposal.
  EXPECT_FALSE(TakeProposal(db_.Conn(), Catalogue::Embedded(), 2, "zh-CN", "我们做过类似的风电叶片防冰项目", "sms",
                            clock_.Now()));
  sms("+8613711112222", "1 " + code2);
  const auto first = sms("+8613711112222", "思路：超疏水涂层加电热融冰；做过两个风场项目；约三个月。");
  ASSERT_EQ(first.outbox.size(), 1U);
  EXPECT_NE(json::parse(first.outbox[0].payload)["text"].get<std::string>().find("已收到"), std::string::npos);
  clock_.Advance(std::chrono::minutes(2));
  sms("+8613711112222", "补充：可先在一台风机上试用，费用在预算内。");  // SMS splits: joins the same proposal
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM proposals"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM proposals WHERE body LIKE '%超疏水%' AND body LIKE '%试用%'"), 1);
  EXPECT_EQ(sms("+8613711112222", "菜单").route, SmsReplyRoute::kConversation) << "short texts stay commands";
  sms("+8613733334444", "1 " + code5);
  sms("+8613733334444", "我们课题组研究叶片除冰机器人，可以现场测试。");
  // Still arriving: no digest; once quiet for 10 minutes, one for the need with both.
  EXPECT_TRUE(ProposalDigests(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 10min).empty());
  clock_.Advance(11min);
  const auto digests = ProposalDigests(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 10min);
  ASSERT_EQ(digests.size(), 1U);
  EXPECT_EQ(digests[0].channel, "wecom");
  EXPECT_EQ(digests[0].recipient, "boss");
  EXPECT_EQ(digests[0].kind, "proposal_digest");
  const std::string text = json::parse(digests[0].payload)["text"];
  EXPECT_NE(text.find("2份新方案"), std::string::npos) << text;
  EXPECT_NE(text.find("王五"), std::string::npos) << text;
  EXPECT_NE(text.find("除冰机器人"), std::string::npos) << text;
  EXPECT_EQ(text.find("+86137"), std::string::npos) << "contact details stay hidden";
  EXPECT_TRUE(ProposalDigests(db_.Conn(), Catalogue::Embedded(), clock_.Now(), 10min).empty()) << "told once";
  // Half an hour later the proposal is complete: a long message is a conversation again.
  clock_.Advance(31min);
  EXPECT_FALSE(TakeProposal(db_.Conn(), Catalogue::Embedded(), 2, "zh-CN", "请问企业什么时候可以回复我们？", "sms",
                            clock_.Now()));
}

TEST_F(PushesTest, OnWeComThePushIsACardWhoseButtonsAnswerIt) {
  const auto msgs = Push(7, Candidates());
  const json card = json::parse(msgs[2].payload);  // researcher 5 prefers WeCom
  EXPECT_EQ(msgs[2].channel, "wecom");
  EXPECT_EQ(card["kind"], "template");
  EXPECT_EQ(card["title"], "新技术需求：风机叶片冬季覆冰");
  ASSERT_EQ(card["params"]["buttons"].size(), 2U);
  const std::string accept = card["params"]["buttons"][0]["key"];
  const auto parsed = ParsePushButtonKey(accept);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->second);
  EXPECT_FALSE(ParsePushButtonKey("push:x:accept"));
  EXPECT_FALSE(ParsePushButtonKey("menu_1"));
  const Conversations conversations(Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded());
  const auto click = [&](const std::string& who, const std::string& key) {
    InboundEvent e{"wecom", who, "event", key, "template_card_event", std::nullopt, {}};
    return conversations.Process(db_.Conn(), e, clock_.Now());
  };
  // Someone else's click on the card changes nothing.
  (void)click("intruder", accept);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE researcher_person_id = 5 AND status = 'sent'"), 1);
  const auto r = click("wangwu", accept);
  ASSERT_EQ(r.replies.size(), 1U);
  EXPECT_NE(r.replies[0].find("有意向"), std::string::npos) << r.replies[0];
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE researcher_person_id = 5 AND status = 'interested'"), 1);
  EXPECT_TRUE(click("wangwu", card["params"]["buttons"][1]["key"]).replies.empty()) << "a second click changes nothing";
  // The SMS fallback of the same payload still reads its template.
  EXPECT_EQ(json::parse(msgs[0].payload)["template_id"], "match_push");
}

// Pushes held for one SMS number go out as one message listing each with its reply code.
class CoalescingTest : public PushesTest {
 protected:
  // Needs 7..(6 + n) pushed to researcher 2 (SMS), each queued; returns the outbox ids.
  std::vector<std::int64_t> QueuePushes(int n) {
    std::vector<std::int64_t> ids;
    for (int need = 7; need < 7 + n; ++need) {
      if (need > 7) {
        db_.Conn().Db().exec(
            "INSERT INTO needs (id, enterprise_id, programme_id, title, field, amount_wan, stage, created_at, "
            "updated_at) VALUES (" +
            std::to_string(need) + ", 1, 1, '第" + std::to_string(need) +
            "号需求：低温电池', 'energy', 10, 'published', 0, 0)");
      }
      for (const auto& m : Push(need, {{2, 1, {"覆冰"}, "energy"}, {5, 1, {"覆冰"}, "energy"}})) {
        const auto id = store::OutboxRepository::Enqueue(db_.Conn(), m, ToUnixMillis(clock_.Now())).id;
        if (m.channel == "sms") ids.push_back(id);
      }
    }
    return ids;
  }
  // Claims the first due SMS, as the dispatcher does, and lets it carry what waits.
  store::OutboxMessage ClaimAndCoalesce(int max) {
    auto claimed = store::OutboxRepository::ClaimDue(db_.Conn(), "me", "sms", ToUnixMillis(clock_.Now()), 1);
    EXPECT_EQ(claimed.size(), 1U);
    CoalescePushes(db_.Conn(), Catalogue::Embedded(), claimed.at(0), ToUnixMillis(clock_.Now()), max);
    return claimed.at(0);
  }
  std::string Status(std::int64_t id) {
    return db_.Conn().Db().execAndGet("SELECT status FROM outbox WHERE id = " + std::to_string(id)).getString();
  }
};

TEST_F(CoalescingTest, ThreeWaitingPushesGoAsOneDigestWithEveryCode) {
  const auto ids = QueuePushes(3);
  ASSERT_EQ(ids.size(), 3U);
  const auto carrier = ClaimAndCoalesce(5);
  EXPECT_EQ(carrier.id, ids[0]);
  const json digest = json::parse(carrier.payload);
  EXPECT_EQ(digest["template_id"], "match_digest");
  EXPECT_EQ(digest["kind"], "text");
  EXPECT_EQ(digest["params"]["count"], "3");
  EXPECT_EQ(digest["title"], "3条新的技术需求匹配");
  // Every push's code is in the titles and its whole text in the mail/WeCom text.
  const std::string titles = digest["params"]["titles"];
  for (const auto id : ids) {
    const auto code = db_.Conn()
                          .Db()
                          .execAndGet(
                              "SELECT reply_code FROM pushes p JOIN outbox o ON o.idempotency_key = "
                              "'push:' || p.id WHERE o.id = " +
                              std::to_string(id))
                          .getString();
    EXPECT_NE(titles.find("（" + code + "）"), std::string::npos) << titles;
    EXPECT_NE(digest["text"].get<std::string>().find("需求代码" + code), std::string::npos);
  }
  EXPECT_EQ(digest["params"]["code"], digest["params"]["items"][0]["code"]);
  EXPECT_NE(titles.find("风机叶片冬季覆冰"), std::string::npos);
  // The store holds what goes out; the others end merged into it and are never claimed.
  EXPECT_EQ(json::parse(db_.Conn()
                            .Db()
                            .execAndGet("SELECT payload FROM outbox WHERE id = " + std::to_string(carrier.id))
                            .getString()),
            digest);
  EXPECT_EQ(Status(ids[1]), "cancelled");
  EXPECT_EQ(Status(ids[2]), "cancelled");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE merged_into = " + std::to_string(carrier.id)), 2);
  EXPECT_TRUE(
      store::OutboxRepository::ClaimDue(db_.Conn(), "me", "sms", ToUnixMillis(clock_.Now()) + 86'400'000, 10).empty());
  // The WeCom pushes to researcher 5 and the pushes themselves are untouched.
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE channel = 'wecom' AND status = 'pending'"), 3);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM pushes WHERE researcher_person_id = 2 AND status = 'sent'"), 3);
}

TEST_F(CoalescingTest, AtMostMaxInOneAndOnlyWaitingPushesToTheSameNumber) {
  const auto ids = QueuePushes(3);
  // A reminder to the same number is not a push; it keeps its own way.
  store::NewOutboxMessage reminder;
  reminder.idempotency_key = "r1";
  reminder.channel = "sms";
  reminder.recipient = "+8613711112222";
  reminder.kind = "reminder";
  reminder.payload = R"({"kind":"text","text":"x"})";
  const auto reminder_id = store::OutboxRepository::Enqueue(db_.Conn(), reminder, ToUnixMillis(clock_.Now()) + 1).id;
  const auto carrier = ClaimAndCoalesce(2);
  EXPECT_EQ(json::parse(carrier.payload)["params"]["count"], "2");
  EXPECT_EQ(Status(ids[1]), "cancelled");
  EXPECT_EQ(Status(ids[2]), "pending");
  EXPECT_EQ(Status(reminder_id), "pending");
  // max 1: each on its own.
  auto next = store::OutboxRepository::ClaimDue(db_.Conn(), "me", "sms", ToUnixMillis(clock_.Now()) + 1, 10);
  ASSERT_EQ(next.size(), 2U);
  const auto before = next[0].payload;
  CoalescePushes(db_.Conn(), Catalogue::Embedded(), next[0], ToUnixMillis(clock_.Now()), 1);
  EXPECT_EQ(next[0].payload, before);
}

TEST_F(CoalescingTest, ADigestRetriedLaterCarriesWhatCameMeanwhileAndNothingTwice) {
  const auto ids = QueuePushes(2);
  const auto carrier = ClaimAndCoalesce(5);
  // The provider failed in a retryable way: the digest waits for its retry, with a new push.
  ASSERT_TRUE(store::OutboxRepository::Finish(db_.Conn(), carrier.id, carrier.attempts,
                                              {store::AttemptOutcome::kRetryable, "tencent", "", "503"},
                                              ToUnixMillis(clock_.Now()), ToUnixMillis(clock_.Now())));
  db_.Conn().Db().exec(
      "INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at) "
      "VALUES (20, 1, 1, '后来的需求', 'published', 0, 0)");
  const auto later = Push(20, {{2, 1, {"覆冰"}, ""}});
  const auto later_id = store::OutboxRepository::Enqueue(db_.Conn(), later.at(0), ToUnixMillis(clock_.Now())).id;
  const auto again = ClaimAndCoalesce(5);
  EXPECT_EQ(again.id, carrier.id);
  const json digest = json::parse(again.payload);
  EXPECT_EQ(digest["params"]["count"], "3");
  ASSERT_EQ(digest["params"]["items"].size(), 3U);
  EXPECT_EQ(digest["params"]["items"][2]["title"], "后来的需求");
  EXPECT_EQ(Status(later_id), "cancelled");
  EXPECT_EQ(Status(ids[1]), "cancelled");
}

}  // namespace
}  // namespace duijie::dialogs
