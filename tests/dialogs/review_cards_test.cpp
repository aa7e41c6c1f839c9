// Staff review needs from a WeCom card (issue 4): a submitted need reaches the bureau of its
// region as a button card, a recommended one the platform; a click approves, or opens the short
// form that asks the recommendation, the reason and the fields to fix — through the same
// ReviewNeed as the admin API. Against a seeded database on a fake clock.
#include "dialogs/review_cards.hpp"

#include <gtest/gtest.h>

#include "dialogs/conversations.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

TEST(ReviewButtonKey, RoundTripsAndRefusesEverythingElse) {
  EXPECT_EQ(ReviewButtonKey(42, "return"), "review:42:return");
  const auto b = ParseReviewButtonKey("review:42:return");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->need_id, 42);
  EXPECT_EQ(b->decision, "return");
  for (const char* bad : {"review:42:publish", "review::return", "review:-1:reject", "review:0:approve",
                          "review:4x:approve", "push:42:accept", "review:42", "review:99999999999999999999:approve"}) {
    EXPECT_FALSE(ParseReviewButtonKey(bad)) << bad;
  }
}

class ReviewCardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Conn().Db().exec(R"sql(
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
        (1, 'enterprise_contact', 'verified', '张三', 0, 0),
        (7, 'staff', 'verified', '孙七', 0, 0), (8, 'staff', 'verified', '周八', 0, 0),
        (9, 'staff', 'verified', '吴九', 0, 0), (10, 'staff', 'verified', '郑十', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (1, 'wecom_userid', 'zhangsan', 'verified', 0),
        (7, 'wecom_userid', 'sunqi', 'verified', 0), (8, 'wecom_userid', 'zhouba', 'verified', 0),
        (9, 'wecom_userid', 'wujiu', 'verified', 0), (10, 'wecom_userid', 'zhengshi', 'verified', 0);
      INSERT INTO enterprises (id, name, credit_code, region, industry, sme_number, contact_person_id, status,
                               created_at, updated_at) VALUES
        (1, '武汉光谷新材料科技有限公司', '91350100M000200Y1H', 'hb01', 'materials', '202142010100001234', 1,
         'verified', 0, 0);
      INSERT INTO api_tokens (name, token_sha256, role, region, person_id, created_at) VALUES
        ('wuhan', 'a', 'bureau_reviewer', 'hb01', 7, 0),
        ('platform', 'b', 'platform_reviewer', NULL, 8, 0),
        ('yichang', 'c', 'bureau_reviewer', 'hb04', 9, 0),
        ('wuhan-api', 'd', 'bureau_reviewer', 'hb01', NULL, 0),
        ('hq', 'e', 'admin', NULL, 10, 0);
    )sql");
  }

  std::string Say(const std::string& who, const std::string& text) {
    return Replies(
        conversations_.Process(db_.Conn(), {"wecom", who, "text", text, std::nullopt, std::nullopt, {}}, clock_.Now()));
  }
  Processed Click(const std::string& who, const std::string& key) {
    return conversations_.Process(db_.Conn(), {"wecom", who, "event", key, "template_card_event", std::nullopt, {}},
                                  clock_.Now());
  }
  static std::string Replies(const Processed& p) {
    std::string all;
    for (const auto& r : p.replies) all += (all.empty() ? "" : "\n---\n") + r;
    return all;
  }
  // The enterprise posts a need by chatting; the cards come back with the turn.
  Processed Post() {
    Processed last;
    for (const char* answer : {"发布需求", "高镍正极材料循环寿命提升", "现有工艺下材料循环500次后容量衰减超过20%",
                               "循环1000次容量保持率不低于90%", "跳过", "1", "新能源", "二十万", "明年3月底", "确认"}) {
      last = conversations_.Process(db_.Conn(), {"wecom", "zhangsan", "text", answer, std::nullopt, std::nullopt, {}},
                                    clock_.Now());
    }
    return last;
  }
  std::string Stage() { return db_.Conn().Db().execAndGet("SELECT stage FROM needs WHERE id = 1").getString(); }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};  // 2026-11-22T00:00Z
  Conversations conversations_{Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded()};
};

TEST_F(ReviewCardsTest, ASubmittedNeedReachesTheBureauOfItsRegionOnWeComAsAButtonCard) {
  const auto posted = Post();
  ASSERT_EQ(Stage(), "submitted");
  // Only Wuhan's bureau reviewer linked to WeCom: not Yichang's, not a token without a person,
  // not the platform (not its step yet), not the admin (the bureau is reachable).
  ASSERT_EQ(posted.outbox.size(), 1U);
  const auto& card = posted.outbox[0];
  EXPECT_EQ(card.channel, "wecom");
  EXPECT_EQ(card.recipient, "sunqi");
  EXPECT_EQ(card.kind, "review_card");
  const json payload = json::parse(card.payload);
  EXPECT_EQ(payload["kind"], "template");
  EXPECT_EQ(payload["title"], "待审技术需求：高镍正极材料循环寿命提升");
  const std::string text = payload["text"];
  EXPECT_NE(text.find("武汉光谷新材料科技有限公司（武汉市）· 地方科技主管部门初审"), std::string::npos) << text;
  EXPECT_NE(text.find("现有工艺下材料循环500次后容量衰减超过20%"), std::string::npos) << text;
  const json& params = payload["params"];
  EXPECT_EQ(params["task_id"], "review-1-0-7");
  ASSERT_EQ(params["buttons"].size(), 3U);
  EXPECT_EQ(params["buttons"][0]["key"], "review:1:recommend");
  EXPECT_EQ(params["buttons"][0]["text"], "推荐");
  EXPECT_EQ(params["buttons"][1]["key"], "review:1:return");
  EXPECT_EQ(params["buttons"][2]["key"], "review:1:reject");
  // The SME-database number is shown to reviewers.
  EXPECT_EQ(params["fields"][1]["value"], "202142010100001234");
  EXPECT_EQ(params["fields"][2]["value"], "20万元");
}

TEST_F(ReviewCardsTest, ReturnRecommendApproveByCardWithTheWordsTheChainRequires) {
  (void)Post();
  // 退回: the reason, then the fields to fix, then the preview; 确认 decides.
  auto reply = Replies(Click("sunqi", "review:1:return"));
  EXPECT_NE(reply.find("好的，退回需求“高镍正极材料循环寿命提升”请企业修改，共2项。"), std::string::npos) << reply;
  EXPECT_NE(reply.find("请写退回理由"), std::string::npos) << reply;
  reply = Say("sunqi", "好");  // too short: re-asked saying why
  EXPECT_EQ(Stage(), "submitted");
  reply = Say("sunqi", "技术指标不明确，请给出可验收的数字");
  EXPECT_NE(reply.find("3. 目标指标"), std::string::npos) << reply;
  reply = Say("sunqi", "目标指标、7");
  EXPECT_NE(reply.find("需修改的项：目标指标、意向金额"), std::string::npos) << reply;
  EXPECT_NE(reply.find("需求：高镍正极材料循环寿命提升"), std::string::npos) << reply;
  EXPECT_EQ(Stage(), "submitted");  // nothing until confirmed
  const auto decided = conversations_.Process(
      db_.Conn(), {"wecom", "sunqi", "text", "确认", std::nullopt, std::nullopt, {}}, clock_.Now());
  EXPECT_EQ(Replies(decided), "已退回需求“高镍正极材料循环寿命提升”，企业会收到修改意见。");
  EXPECT_TRUE(decided.queued_elsewhere);
  EXPECT_EQ(Stage(), "returned");
  EXPECT_EQ(db_.Conn().Db().execAndGet("SELECT returned_fields FROM needs").getString(), R"(["targets","amount"])");
  // Recorded as the staff member's act on WeCom, and audited under their token.
  EXPECT_EQ(
      Scalar("SELECT count(*) FROM transitions WHERE entity = 'need' AND to_state = 'returned' AND actor_person_id = 7 "
             "AND channel = 'wecom' AND reason = '技术指标不明确，请给出可验收的数字'"),
      1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_log WHERE actor = 'wuhan (bureau_reviewer)' AND action = "
                   "'need.review' AND json_extract(detail, '$.channel') = 'wecom'"),
            1);
  // The enterprise is told, as by the admin API.
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE kind = 'notice' AND recipient = 'zhangsan' AND payload LIKE "
                   "'%被退回修改%'"),
            1);

  // Fixed and resubmitted: a new round of cards.
  Say("zhangsan", "修改需求");
  Say("zhangsan", "循环1000次容量保持率不低于90%，成本增加不超过5%");
  const auto resubmitted = conversations_.Process(
      db_.Conn(), {"wecom", "zhangsan", "text", "二十五万", std::nullopt, std::nullopt, {}}, clock_.Now());
  (void)resubmitted;
  const auto confirmed = conversations_.Process(
      db_.Conn(), {"wecom", "zhangsan", "text", "确认", std::nullopt, std::nullopt, {}}, clock_.Now());
  ASSERT_EQ(Stage(), "submitted");
  ASSERT_EQ(confirmed.outbox.size(), 1U);
  EXPECT_EQ(json::parse(confirmed.outbox[0].payload)["params"]["task_id"], "review-1-1-7");

  // 推荐: Hubei asks the bureau's recommendation (推荐意见).
  reply = Replies(Click("sunqi", "review:1:recommend"));
  EXPECT_NE(reply.find("请输入推荐意见"), std::string::npos) << reply;
  Say("sunqi", "企业情况属实，指标已明确，建议发布");
  EXPECT_EQ(Say("sunqi", "确认"), "已推荐需求“高镍正极材料循环寿命提升”，已转平台审核。");
  EXPECT_EQ(Stage(), "recommended");
  // The platform's card went with the decision.
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE kind = 'review_card' AND recipient = 'zhouba' AND "
                   "json_extract(payload, '$.params.buttons[0].key') = 'review:1:approve'"),
            1);

  // A stale card: the bureau's step is done.
  EXPECT_EQ(Replies(Click("sunqi", "review:1:recommend")),
            "需求“高镍正极材料循环寿命提升”目前为“待平台审核”，这一步不由您处理（可能已有人处理）。");
  // 通过 is the click itself.
  const auto approved = Click("zhouba", "review:1:approve");
  EXPECT_EQ(Replies(approved), "已通过需求“高镍正极材料循环寿命提升”，需求已发布，将开始为企业匹配科技人员。");
  EXPECT_TRUE(approved.queued_elsewhere);
  EXPECT_EQ(Stage(), "published");
  EXPECT_EQ(Scalar("SELECT count(*) FROM need_reviews WHERE need_id = 1"), 3);
  // A second click on the same card changes nothing.
  (void)Click("zhouba", "review:1:approve");
  EXPECT_EQ(Scalar("SELECT count(*) FROM need_reviews WHERE need_id = 1"), 3);
}

TEST_F(ReviewCardsTest, OnlyTheReviewerWhoseStepItIsMayDecideAndARejectionNeedsAReason) {
  (void)Post();
  // Another region's bureau, the platform before the bureau, an enterprise contact, a viewer.
  EXPECT_NE(Replies(Click("wujiu", "review:1:reject")).find("这一步不由您处理"), std::string::npos);
  EXPECT_NE(Replies(Click("zhouba", "review:1:approve")).find("这一步不由您处理"), std::string::npos);
  EXPECT_EQ(Replies(Click("zhangsan", "review:1:approve")),
            "只有持有审核权限、并已绑定企业微信的工作人员才能审核需求。");
  EXPECT_EQ(Replies(Click("sunqi", "review:99:reject")), "这条需求已不存在。");
  EXPECT_EQ(Stage(), "submitted");
  EXPECT_EQ(Scalar("SELECT count(*) FROM need_reviews"), 0);

  // 驳回 asks the reason; 取消 leaves the need as it was.
  EXPECT_NE(Replies(Click("sunqi", "review:1:reject")).find("请写驳回理由"), std::string::npos);
  EXPECT_NE(Say("sunqi", "取消").find("已取消"), std::string::npos);
  EXPECT_EQ(Stage(), "submitted");
  // Mid-form, another card waits until this form is done.
  Click("sunqi", "review:1:reject");
  EXPECT_NE(Replies(Click("sunqi", "review:1:return")).find("您正在填写驳回需求"), std::string::npos);
  Say("sunqi", "不属于本专项支持范围");
  EXPECT_EQ(Say("sunqi", "确认"), "已驳回需求“高镍正极材料循环寿命提升”，企业会收到理由。");
  EXPECT_EQ(Stage(), "rejected");
}

TEST_F(ReviewCardsTest, WithNoReviewerOfTheStepOnWeComTheLinkedAdminsGetTheCard) {
  db_.Conn().Db().exec("UPDATE api_tokens SET revoked_at = 1 WHERE name = 'wuhan'");
  const auto posted = Post();
  ASSERT_EQ(posted.outbox.size(), 1U);
  EXPECT_EQ(posted.outbox[0].recipient, "zhengshi");
  // The admin decides either step; recommending asks the opinion as for the bureau.
  EXPECT_NE(Replies(Click("zhengshi", "review:1:recommend")).find("请输入推荐意见"), std::string::npos);
}

}  // namespace
}  // namespace duijie::dialogs
