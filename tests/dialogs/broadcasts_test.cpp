// Broadcasts against a real (temporary) database on a fake clock: idempotency, channel order
// and opt-outs, caps, cancel mid-way, acknowledgement-driven fallback across channels, the
// delivery report, and the milestone ladders on the working-day calendar.
#include "dialogs/broadcasts.hpp"

#include <gtest/gtest.h>

#include "dialogs/milestones.hpp"
#include "dialogs/sms_replies.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class BroadcastsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("某风电公司", "hb01", "energy");
    auto& db = db_.Conn().Db();
    db.exec(R"sql(
      UPDATE people SET display_name = '张三' WHERE id = 1;
      UPDATE enterprises SET status = 'verified' WHERE id = 1;
      INSERT INTO people (id, role, status, display_name, preferred_channel, created_at, updated_at) VALUES
        (2, 'researcher', 'verified', '李四', NULL, 0, 0),
        (3, 'researcher', 'verified', '王五', NULL, 0, 0),
        (4, 'researcher', 'verified', '赵六', NULL, 0, 0),
        (5, 'researcher', 'verified', '钱七', 'email', 0, 0);
      INSERT INTO researchers (person_id, eligibility, region, created_at, updated_at) VALUES
        (2, 'university_staff', 'hb01', 0, 0), (3, 'university_staff', 'hb01', 0, 0),
        (4, 'university_staff', 'hb01', 0, 0), (5, 'university_staff', 'hb01', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (1, 'wecom_userid', 'zhangsan', 'verified', 0), (1, 'mobile', '+8613800000001', 'verified', 0),
        (1, 'email', 'zhangsan@example.cn', 'verified', 0),
        (2, 'mobile', '+8613800000002', 'verified', 0),
        (3, 'mobile', '+8613800000003', 'verified', 0), (3, 'email', 'wangwu@example.cn', 'verified', 0),
        (5, 'mobile', '+8613800000005', 'verified', 0), (5, 'email', 'qianqi@example.cn', 'verified', 0);
      INSERT INTO suppressions (channel, address, reason, created_at) VALUES ('sms', '+8613800000003', 'opt_out', 0);
    )sql");
  }

  Result<BroadcastCreated> Create(const json& request, std::optional<std::string> key = std::nullopt) {
    return CreateBroadcast(db_.Conn(), programme_, Catalogue::Embedded(), admin_, request, key, clock_.Now());
  }
  static json Request(json audience, bool ack = false) {
    json r = {{"title", "材料提交提醒"},
              {"audience", std::move(audience)},
              {"message", {{"title", "提醒"}, {"text", "{name}您好，请于{deadline}前提交材料。"}}},
              {"vars", {{"deadline", "12月31日"}}},
              {"send_at", "now"}};
    if (ack) r["ack"] = {{"within_minutes", 60}};
    return r;
  }
  BroadcastRound Run(int limit = 100) {
    return RunBroadcasts(db_.Conn(), programme_, Catalogue::Embedded(), policy_, clock_.Now(), limit);
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }
  std::string Text(const std::string& sql) { return db_.Conn().Db().execAndGet(sql).getString(); }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};  // 2026-11-22T00:00:00Z, 08:00 in Beijing
  const Programme& programme_ = Programme::Embedded().at("hubei-2020");
  const Staff admin_{"hq", "admin", std::nullopt};
  BroadcastPolicy policy_;
  Conversations conversations_{Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded()};
};

TEST_F(BroadcastsTest, TheSameKeyTwiceIsOneBroadcastAndAnotherRequestUnderItIsRefused) {
  const auto first = Create(Request({{"roles", {"researcher"}}}), "k-1");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->created);
  const auto again = Create(Request({{"roles", {"researcher"}}}), "k-1");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->body["id"], first->body["id"]);
  const auto other = Create(Request({{"roles", {"enterprise_contact"}}}), "k-1");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, make_error_code(Errc::kConflict));
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts"), 1);
}

TEST_F(BroadcastsTest, BadRequestsAreRefusedByNameAndChangeNothing) {
  const auto error = [this](json r) {
    auto made = Create(r);
    return made ? std::string("accepted") : made.error().message;
  };
  json r = Request(json::object());
  r["message"]["text"] = "{who}您好";
  EXPECT_NE(error(r).find("{who} is not a variable"), std::string::npos) << error(r);
  r = Request(json::object());
  r["message"]["text"] = "详见 https://example.cn/x";
  EXPECT_NE(error(r).find("link cannot go by SMS"), std::string::npos);
  r["channels"] = {"wecom", "email"};
  EXPECT_EQ(error(r), "accepted") << "no SMS, so a link may stay";
  r = Request(json::object());
  r["send_at"] = "明天";
  EXPECT_NE(error(r).find("send_at"), std::string::npos);
  r = Request(json::object());
  r["send_at"] = "2020-01-01T09:00:00+08:00";
  EXPECT_NE(error(r).find("in the past"), std::string::npos);
  r = Request({{"stage", "nope"}});
  EXPECT_NE(error(r).find("stage"), std::string::npos);
  r = Request(json::object());
  r["colour"] = "red";
  EXPECT_NE(error(r).find("'colour'"), std::string::npos);
  r = Request(json::object());
  r["ack"] = {{"within_minutes", 1}};
  EXPECT_NE(error(r).find("ack"), std::string::npos);
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts"), 1) << "only the one accepted";
  const Staff viewer{"dash", "viewer", std::nullopt};
  EXPECT_FALSE(CreateBroadcast(db_.Conn(), programme_, Catalogue::Embedded(), viewer, Request(json::object()),
                               std::nullopt, clock_.Now()));
}

TEST_F(BroadcastsTest, EachPersonOnTheirFirstReachableChannelWithTheRestAsFallback) {
  ASSERT_TRUE(Create(Request(json::object())));
  const auto round = Run();
  EXPECT_EQ(round.started, 1);
  EXPECT_EQ(round.planned, 4);
  EXPECT_EQ(round.skipped, 1) << "4 has no address";
  // 1: WeCom first (the default order), SMS and email as fallback.
  EXPECT_EQ(Text("SELECT channel FROM outbox WHERE person_id = 1"), "wecom");
  EXPECT_EQ(json::parse(Text("SELECT fallback FROM outbox WHERE person_id = 1")).size(), 2U);
  // 3 opted out of SMS: email only. 5 prefers email.
  EXPECT_EQ(Text("SELECT channel FROM outbox WHERE person_id = 3"), "email");
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE person_id = 3 AND fallback IS NOT NULL"), 0);
  EXPECT_EQ(Text("SELECT channel FROM outbox WHERE person_id = 5"), "email");
  EXPECT_EQ(Text("SELECT status FROM broadcast_recipients WHERE person_id = 4"), "failed");
  EXPECT_EQ(Text("SELECT reason FROM broadcast_recipients WHERE person_id = 4"), "no_address");
  const json msg = json::parse(Text("SELECT payload FROM outbox WHERE person_id = 2"));
  EXPECT_EQ(msg["template_id"], "reminder");
  EXPECT_EQ(msg["params"]["text"], "【提醒】李四您好，请于12月31日前提交材料。");
  // One payload for every channel: WeCom's text with the title, the mail's own subject and text.
  EXPECT_EQ(msg["text"], "提醒\n李四您好，请于12月31日前提交材料。");
  EXPECT_EQ(msg["params"]["mail"]["subject"], "提醒");
  EXPECT_EQ(msg["params"]["mail"]["text"], "李四您好，请于12月31日前提交材料。");
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE broadcast_id = 1"), 4);
  // Nothing is planned twice.
  EXPECT_EQ(Run().planned, 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox"), 4);
}

TEST_F(BroadcastsTest, AllOptedOutIsReportedAsSuch) {
  db_.Conn().Db().exec(
      "INSERT INTO suppressions (channel, address, reason, created_at) VALUES ('sms', '+8613800000002', 'opt_out', 0)");
  ASSERT_TRUE(Create(Request({{"people", {2}}})));
  (void)Run();
  EXPECT_EQ(Text("SELECT status FROM broadcast_recipients WHERE person_id = 2"), "opted_out");
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox"), 0);
}

TEST_F(BroadcastsTest, AScheduledBroadcastWaitsForItsTimeAndTakesTheAudienceThen) {
  json r = Request({{"roles", {"researcher"}}});
  r["send_at"] = "2026-11-22T09:00:00+08:00";  // one hour on
  ASSERT_TRUE(Create(r));
  EXPECT_EQ(Run().started, 0);
  db_.Conn().Db().exec("UPDATE people SET role = 'enterprise_contact' WHERE id = 5");
  clock_.Advance(1h);
  const auto round = Run();
  EXPECT_EQ(round.started, 1);
  EXPECT_EQ(Scalar("SELECT audience_size FROM broadcasts"), 3) << "2, 3 and 4: who they are at sending time";
}

TEST_F(BroadcastsTest, ADraftIsSentOnRequest) {
  json r = Request({{"people", {2}}});
  r.erase("send_at");
  const auto made = Create(r);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->body["status"], "draft");
  EXPECT_EQ(Run().started, 0);
  ASSERT_TRUE(SendBroadcast(db_.Conn(), admin_, 1, json::object(), clock_.Now()));
  EXPECT_EQ(Run().planned, 1);
}

TEST_F(BroadcastsTest, CancelledMidWayNothingMoreGoesOut) {
  ASSERT_TRUE(Create(Request(json::object())));
  const auto first = Run(2);  // two recipients planned, then the batch is full
  EXPECT_TRUE(first.more);
  EXPECT_EQ(first.planned, 2);
  const auto cancelled = CancelBroadcast(db_.Conn(), admin_, 1, clock_.Now());
  ASSERT_TRUE(cancelled);
  EXPECT_EQ((*cancelled)["status"], "cancelled");
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE status = 'cancelled'"), 2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcast_recipients WHERE status = 'queued'"), 0);
  const auto after = Run();
  EXPECT_EQ(after.planned + after.escalated, 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox"), 2);
  // A message that fails now does not fall back to the next address either.
  db_.Conn().Db().exec("UPDATE outbox SET status = 'failed' WHERE person_id = 1");
  EXPECT_FALSE(store::OutboxRepository::EnqueueFallback(db_.Conn(), 1, ToUnixMillis(clock_.Now())));
  EXPECT_TRUE(CancelBroadcast(db_.Conn(), admin_, 1, clock_.Now())) << "twice is not an error";
}

TEST_F(BroadcastsTest, AtMostAWindowOfMessagesWaitsAndTheRestFollowAsTheyGoOut) {
  policy_.window = 2;
  ASSERT_TRUE(Create(Request(json::object())));
  const auto first = Run();
  EXPECT_EQ(first.planned, 2);
  EXPECT_FALSE(first.more) << "a full window is not more work now";
  EXPECT_EQ(Run().planned, 0);
  db_.Conn().Db().exec("UPDATE outbox SET status = 'sent'");
  const auto second = Run();  // 3 (email) and 4 (no address)
  EXPECT_EQ(second.planned, 1);
  EXPECT_EQ(second.skipped, 1);
  db_.Conn().Db().exec("UPDATE outbox SET status = 'sent'");
  EXPECT_EQ(Run().planned, 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcast_recipients WHERE status = 'queued'"), 0);
}

TEST_F(BroadcastsTest, APersonGetsAtMostTheCapOfStaffBroadcastsADay) {
  policy_.max_per_person_per_day = 1;
  ASSERT_TRUE(Create(Request({{"people", {2}}})));
  (void)Run();
  json second = Request({{"people", {2}}});
  second["title"] = "又一条";
  ASSERT_TRUE(Create(second));
  const auto round = Run();
  EXPECT_EQ(round.skipped, 1);
  EXPECT_EQ(Text("SELECT reason FROM broadcast_recipients WHERE broadcast_id = 2"), "capped");
  clock_.Advance(25h);
  json third = Request({{"people", {2}}});
  third["title"] = "第二天";
  ASSERT_TRUE(Create(third));
  EXPECT_EQ(Run().planned, 1) << "a day later the cap is free again";
}

TEST_F(BroadcastsTest, NoAcknowledgementMovesToTheNextChannelAndAnAcknowledgementOnSmsClosesTheRest) {
  ASSERT_TRUE(Create(Request({{"people", {1}}}, /*ack=*/true)));
  (void)Run();
  // WeCom first: a card with a 确认收到 button.
  const json card = json::parse(Text("SELECT payload FROM outbox WHERE channel = 'wecom'"));
  EXPECT_EQ(card["kind"], "template");
  EXPECT_EQ(card["params"]["buttons"][0]["key"], AckButtonKey(1));
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE fallback IS NOT NULL"), 0)
      << "the ladder, not the outbox, moves on";
  clock_.Advance(59min);
  EXPECT_EQ(Run().escalated, 0);
  clock_.Advance(2min);
  EXPECT_EQ(Run().escalated, 1);
  const json sms = json::parse(Text("SELECT payload FROM outbox WHERE channel = 'sms'"));
  EXPECT_NE(sms["params"]["text"].get<std::string>().find("回复1确认收到"), std::string::npos);
  // "1" by SMS acknowledges: nothing more on any channel.
  const auto reply = ProcessSmsReply(db_.Conn(), conversations_, Catalogue::Embedded(),
                                     {"+8613800000001", "1", "tencent", "in-1", ""}, clock_.Now());
  EXPECT_EQ(reply.route, SmsReplyRoute::kAcknowledged);
  ASSERT_EQ(reply.outbox.size(), 1U);
  EXPECT_NE(reply.outbox[0].payload.find("已确认收到"), std::string::npos);
  EXPECT_EQ(Text("SELECT status FROM broadcast_recipients"), "acknowledged");
  EXPECT_EQ(Text("SELECT channel FROM broadcast_recipients"), "sms");
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE channel = 'sms' AND status = 'cancelled'"), 1)
      << "the SMS had not gone out yet: it never will";
  clock_.Advance(3h);
  EXPECT_EQ(Run().escalated, 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE channel = 'email'"), 0);
  // A second "1" has nothing to acknowledge: it goes to the conversation.
  const auto again = ProcessSmsReply(db_.Conn(), conversations_, Catalogue::Embedded(),
                                     {"+8613800000001", "1", "tencent", "in-2", ""}, clock_.Now());
  EXPECT_EQ(again.route, SmsReplyRoute::kConversation);
}

TEST_F(BroadcastsTest, AFailedMessageMovesOnAtOnceAndTheLastChannelCloses) {
  ASSERT_TRUE(Create(Request({{"people", {1}}}, /*ack=*/true)));
  (void)Run();
  db_.Conn().Db().exec("UPDATE outbox SET status = 'failed', last_error = 'invaliduser' WHERE channel = 'wecom'");
  EXPECT_EQ(Run().escalated, 1) << "no waiting for the hour";
  clock_.Advance(61min);
  EXPECT_EQ(Run().escalated, 1);
  EXPECT_EQ(Text("SELECT channel FROM outbox ORDER BY id DESC LIMIT 1"), "email");
  const json mail = json::parse(Text("SELECT payload FROM outbox WHERE channel = 'email'"));
  EXPECT_NE(mail["params"]["mail"]["text"].get<std::string>().find("回复本邮件"), std::string::npos);
  clock_.Advance(61min);
  EXPECT_EQ(Run().escalated, 0);
  EXPECT_EQ(Text("SELECT reason FROM broadcast_recipients"), "unacknowledged");
  db_.Conn().Db().exec("UPDATE outbox SET status = 'sent' WHERE status = 'pending'");
  EXPECT_EQ(Run().finished, 1);
  EXPECT_EQ(Text("SELECT status FROM broadcasts"), "done");
}

TEST_F(BroadcastsTest, AcknowledgedByTheCardButtonOnlyForThatBroadcast) {
  ASSERT_TRUE(Create(Request({{"people", {1}}}, /*ack=*/true)));
  (void)Run();
  const auto& cat = Catalogue::Embedded();
  EXPECT_FALSE(AcknowledgeBroadcast(db_.Conn(), cat, 1, "zh-CN", 99, "wecom", clock_.Now()));
  EXPECT_FALSE(AcknowledgeBroadcast(db_.Conn(), cat, 2, "zh-CN", 1, "wecom", clock_.Now())) << "not theirs";
  EXPECT_TRUE(AcknowledgeBroadcast(db_.Conn(), cat, 1, "zh-CN", 1, "wecom", clock_.Now()));
  EXPECT_FALSE(AcknowledgeBroadcast(db_.Conn(), cat, 1, "zh-CN", 1, "wecom", clock_.Now())) << "once";
  EXPECT_EQ(ParseAckButtonKey("ack:12"), 12);
  EXPECT_FALSE(ParseAckButtonKey("ack:"));
  EXPECT_FALSE(ParseAckButtonKey("ack:1x"));
  EXPECT_FALSE(ParseAckButtonKey("push:1:accept"));
  EXPECT_TRUE(IsAcknowledgement("确认"));
  EXPECT_TRUE(IsAcknowledgement(" 收到！"));
  EXPECT_FALSE(IsAcknowledgement("2"));
}

TEST_F(BroadcastsTest, ReportAndCsvByChannelWithAddressesMasked) {
  ASSERT_TRUE(Create(Request(json::object(), /*ack=*/true)));
  (void)Run();
  db_.Conn().Db().exec("UPDATE outbox SET status = 'delivered' WHERE person_id = 2");
  db_.Conn().Db().exec("UPDATE outbox SET status = 'failed', last_error = 'mailbox full' WHERE person_id = 3");
  (void)AcknowledgeBroadcast(db_.Conn(), Catalogue::Embedded(), 5, "zh-CN", std::nullopt, "email", clock_.Now());
  const auto report = BroadcastReport(db_.Conn(), 1);
  ASSERT_TRUE(report);
  const auto& ch = (*report)["channels"];
  EXPECT_EQ(ch["sms"]["delivered"], 1);
  EXPECT_EQ(ch["email"]["failed"], 1);
  EXPECT_EQ(ch["email"]["failures"]["mailbox full"], 1);
  EXPECT_EQ(ch["email"]["acknowledged"], 1);
  EXPECT_EQ(ch["wecom"]["queued"], 1);
  EXPECT_EQ((*report)["skipped"]["no_address"], 1);
  EXPECT_EQ((*report)["progress"]["people_total"], 5);
  const auto csv = BroadcastReportCsv(db_.Conn(), 1);
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->find("13800000002"), std::string::npos) << *csv;
  EXPECT_EQ(csv->find("wangwu@"), std::string::npos) << *csv;
  EXPECT_NE(csv->find("person_id,name,role,status"), std::string::npos);
  EXPECT_NE(csv->find("5,钱七,researcher,acknowledged,email"), std::string::npos) << *csv;
  EXPECT_FALSE(BroadcastReport(db_.Conn(), 9));
}

TEST_F(BroadcastsTest, PreviewRendersEveryChannelOfThePerson) {
  json r = Request(json::object(), true);
  r.erase("send_at");
  ASSERT_TRUE(Create(r));
  const auto preview = PreviewBroadcast(db_.Conn(), Catalogue::Embedded(), policy_, 1, 1);
  ASSERT_TRUE(preview);
  ASSERT_EQ((*preview)["channels"].size(), 3U);
  EXPECT_EQ((*preview)["channels"][0]["channel"], "wecom");
  EXPECT_EQ((*preview)["channels"][1]["address"].get<std::string>().find("13800000001"), std::string::npos);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox"), 0) << "a preview sends nothing";
}

// Hubei: contracts are due on 2021-02-28 (a Sunday), just after the Spring Festival of 2021.
class MilestonesTest : public BroadcastsTest {
 protected:
  void SetUp() override {
    BroadcastsTest::SetUp();
    db_.Conn().Db().exec(R"sql(
      INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at)
        VALUES (1, 1, 1, '风机叶片覆冰', 'published', 0, 0);
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES (9, 'staff', 'verified', '局里', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (9, 'wecom_userid', 'juli', 'verified', 0);
      INSERT INTO api_tokens (name, token_sha256, role, region, person_id, created_at) VALUES ('wuhan', 'x', 'bureau_reviewer', 'hb01', 9, 0);
    )sql");
  }
  MilestoneRound At(const char* utc_iso_minute) {
    const auto day = *ParseIsoDate(std::string_view(utc_iso_minute).substr(0, 10));
    const int hour = std::stoi(std::string(utc_iso_minute).substr(11, 2));
    clock_.Set(std::chrono::time_point_cast<Clock::Duration>(std::chrono::sys_seconds(day) + std::chrono::hours(hour)));
    return RunMilestones(db_.Conn(), programme_, Catalogue::Embedded(), WorkCalendar::Embedded(), clock_.Now());
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> out;
    SQLite::Statement q(db_.Conn().Db(), "SELECT idempotency_key FROM broadcasts WHERE kind = 'milestone' ORDER BY id");
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
  }
};

TEST_F(MilestonesTest, TheLadderFollowsWorkingDaysAndOnlyThoseWhoStillOweTheStep) {
  EXPECT_EQ(At("2021-02-18T02").reminders, 0) << "T-7 is 2021-02-19";
  EXPECT_EQ(At("2021-02-19T00").reminders, 1);
  EXPECT_EQ(At("2021-02-19T05").reminders, 0) << "once a rung";
  EXPECT_EQ(Keys(), std::vector<std::string>{"milestone:hubei-2020:contract_due:T-7"});
  // Sent at 09:00 in Beijing, asking for an acknowledgement.
  EXPECT_EQ(Scalar("SELECT scheduled_at FROM broadcasts WHERE kind = 'milestone'"),
            ToUnixMillis(WorkCalendar::Embedded().StartOf(*ParseIsoDate("2021-02-19")) + 9h));
  EXPECT_EQ(Scalar("SELECT ack_minutes FROM broadcasts WHERE kind = 'milestone'"), 24 * 60);
  (void)RunBroadcasts(db_.Conn(), programme_, Catalogue::Embedded(), policy_, clock_.Now(), 100);
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = (SELECT id FROM broadcasts WHERE "
                   "kind = 'milestone')"),
            1)
      << "only enterprise 1 owes it";
  const json msg = json::parse(
      Text("SELECT payload FROM outbox WHERE broadcast_id = (SELECT id FROM broadcasts WHERE kind = 'milestone')"));
  EXPECT_NE(msg["text"].get<std::string>().find("2021-02-28"), std::string::npos) << msg.dump();
  EXPECT_NE(msg["text"].get<std::string>().find("还剩6个工作日"), std::string::npos) << msg.dump();
  EXPECT_EQ(At("2021-02-20T02").reminders, 0) << "a worked Saturday, but no rung";
  EXPECT_EQ(At("2021-02-24T02").reminders, 1) << "T-3";
  // The enterprise records its contract: the last rung finds nobody.
  db_.Conn().Db().exec(
      "INSERT INTO units (id, name, kind, created_at) VALUES (1, '华中科技大学', 'university', 0); "
      "INSERT INTO contracts (need_id, researcher_person_id, unit_id, contract_type, amount_wan, signed_on, "
      "created_at, "
      "updated_at) VALUES (1, 2, 1, 'development', 20, '2021-02-25', 0, 0)");
  EXPECT_EQ(At("2021-02-26T02").reminders, 1) << "T-1";
  (void)RunBroadcasts(db_.Conn(), programme_, Catalogue::Embedded(), policy_, clock_.Now(), 100);
  EXPECT_EQ(Scalar("SELECT audience_size FROM broadcasts WHERE idempotency_key LIKE '%T-1'"), 0);
  EXPECT_EQ(At("2021-02-27T02").reminders, 0);
}

TEST_F(MilestonesTest, AMissedRungIsNotSentLateAndAPastDateEscalatesOnce) {
  EXPECT_EQ(At("2021-02-25T02").reminders, 1);
  EXPECT_EQ(Keys(), std::vector<std::string>{"milestone:hubei-2020:contract_due:T-3"});
  // 2021-03-01 (Monday): the first working day after the date. The bureau of 武汉 is told.
  const auto round = At("2021-03-01T02");
  EXPECT_EQ(round.escalations, 1);
  EXPECT_EQ(At("2021-03-01T06").escalations, 0);
  (void)RunBroadcasts(db_.Conn(), programme_, Catalogue::Embedded(), policy_, clock_.Now(), 100);
  EXPECT_EQ(
      Text("SELECT recipient FROM outbox WHERE broadcast_id = (SELECT id FROM broadcasts WHERE kind = 'escalation')"),
      "juli");
  const json msg = json::parse(
      Text("SELECT payload FROM outbox WHERE broadcast_id = (SELECT id FROM broadcasts WHERE kind = 'escalation')"));
  EXPECT_NE(msg["text"].get<std::string>().find("仍有1人未完成"), std::string::npos) << msg.dump();
  // Long past: nothing.
  EXPECT_EQ(At("2021-06-01T02").escalations + At("2021-06-01T02").reminders, 0);
}

TEST_F(MilestonesTest, NeedsStuckInAStageReachTheStaffOnceAWorkingDay) {
  // Need 1 has been published since the start of time: past the 14 days of the programme.
  EXPECT_EQ(At("2021-02-21T02").stage_digests, 0) << "not on a Sunday";
  EXPECT_EQ(At("2021-02-22T00").stage_digests, 1);  // a Monday
  EXPECT_EQ(At("2021-02-22T05").stage_digests, 0) << "once a day";
  (void)RunBroadcasts(db_.Conn(), programme_, Catalogue::Embedded(), policy_, clock_.Now(), 100);
  const std::string digest = "(SELECT id FROM broadcasts WHERE kind = 'stage_digest')";
  const json msg = json::parse(Text("SELECT payload FROM outbox WHERE broadcast_id = " + digest));
  EXPECT_NE(msg["text"].get<std::string>().find("已发布1项（超过14天）"), std::string::npos) << msg.dump();
  EXPECT_EQ(Text("SELECT recipient FROM outbox WHERE broadcast_id = " + digest), "juli");
  // Published again a moment ago: nothing to say.
  db_.Conn().Db().exec(
      "INSERT INTO transitions (entity, entity_id, from_state, to_state, channel, at) VALUES ('need', 1, "
      "'recommended', 'published', 'api', " +
      std::to_string(ToUnixMillis(clock_.Now())) + ")");
  EXPECT_EQ(At("2021-02-23T02").stage_digests, 0);
}

}  // namespace
}  // namespace duijie::dialogs
