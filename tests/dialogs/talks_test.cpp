// The enterprise's commands and the relay, at their edges (the journeys in tests/dialogs/journeys
// show them in use): who may use the commands, what is never relayed, numbers as people type them.
#include "dialogs/talks.hpp"

#include <gtest/gtest.h>

#include "matcher/matcher.hpp"
#include "store/matching.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

class TalksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("武汉某风电公司");
    db_.Conn().Db().exec(R"sql(
      UPDATE people SET display_name = '张三' WHERE id = 1;
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
        (2, 'researcher', 'verified', '李四', 0, 0), (3, 'researcher', 'verified', '王五', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (1, 'wecom_userid', 'zhangsan', 'verified', 0), (2, 'mobile', '+8613711112222', 'verified', 0),
        (3, 'mobile', '+8613733334444', 'verified', 0);
      INSERT INTO needs (id, enterprise_id, programme_id, title, field, amount_wan, stage, created_at, updated_at)
        VALUES (7, 1, 1, '风机叶片冬季覆冰', 'energy', 20, 'published', 0, 0);
      INSERT INTO pushes (id, need_id, researcher_person_id, status, created_at, updated_at) VALUES
        (1, 7, 2, 'interested', 0, 0), (2, 7, 3, 'interested', 0, 0);
    )sql");
  }
  std::optional<TalkTurn> Say(std::int64_t person, const std::string& text, bool understood = false) {
    return HandleTalk(db_.Conn(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), recommend_, person,
                      "zh-CN", text, "wecom", understood, clock_.Now());
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'341'600'000)};
  ResearcherRecommender recommend_;
};

TEST_F(TalksTest, NumbersAreReadAsPeopleTypeThemAndAWrongOneChangesNothing) {
  auto turn = Say(1, "初选１，2");  // a full-width digit, a full-width comma
  ASSERT_TRUE(turn);
  EXPECT_EQ(Scalar("SELECT count(*) FROM pushes WHERE status = 'shortlisted'"), 2);
  turn = Say(1, "选定 1、3");
  ASSERT_TRUE(turn);
  ASSERT_EQ(turn->replies.size(), 1U);
  EXPECT_EQ(turn->replies[0], "没有序号为3的人选，回复“人选”查看列表。");
  EXPECT_TRUE(turn->outbox.empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM pushes WHERE status = 'chosen'"), 0);
  // Words after the verb that are not numbers: not a command at all.
  EXPECT_FALSE(Say(1, "初选名单什么时候出来"));
  EXPECT_FALSE(Say(1, "洽谈"));
}

TEST_F(TalksTest, OnlyTheEnterpriseContactListsAndPicksAndNothingIsRelayedOutsideATalk) {
  EXPECT_FALSE(Say(2, "人选"));
  EXPECT_FALSE(Say(2, "选定 1"));
  EXPECT_FALSE(Say(1, "你好"));  // no talk open: the conversation takes it
  ASSERT_TRUE(Say(2, "结束洽谈"));
  EXPECT_EQ(Say(2, "结束洽谈")->replies[0], "您目前没有进行中的洽谈。");
}

TEST_F(TalksTest, TheMatchersRecommendationsComeWithWhyAndWhetherEachWasAsked) {
  EXPECT_NE(Say(1, "推荐人选")->replies[0].find("暂无合适的科技人员"), std::string::npos) << "no matcher yet";
  db_.Conn().Db().exec(R"sql(
    UPDATE needs SET problem = '冬季风机叶片覆冰导致停机', targets = '覆冰后两小时内恢复发电' WHERE id = 7;
    INSERT INTO units (id, name, kind, created_at) VALUES (1, '华中科技大学', 'university', 0);
    INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
      (4, 'researcher', 'verified', '赵六', 0, 0);
    INSERT INTO researchers (person_id, unit_id, eligibility, fields, keywords, bio, capacity, status, created_at,
                             updated_at) VALUES
      (2, 1, 'university_staff', '["energy"]', '["风机叶片","覆冰"]', '风机叶片覆冰与超疏水涂层', 2, 'verified', 0, 0),
      (3, 1, 'university_staff', '["biomed"]', '["药物"]', '药物缓释制剂', 2, 'verified', 0, 0),
      (4, 1, 'university_staff', '["energy"]', '["叶片","除冰"]', '风电叶片覆冰与除冰技术', 1, 'verified', 0, 0);
  )sql");
  matcher::Matcher matcher(matcher::Analyzer{});
  const auto pool = store::LoadMatchingPool(db_.Conn());
  for (const auto& n : pool.needs) matcher.Upsert(n);
  for (const auto& r : pool.researchers) matcher.Upsert(r);
  recommend_ = [&matcher](const matcher::Need& n, std::size_t k) { return matcher.ResearchersFor(n, k); };
  const std::string list = Say(1, "推荐人选")->replies.at(0);
  EXPECT_NE(list.find("「风机叶片冬季覆冰」"), std::string::npos) << list;
  EXPECT_NE(list.find("1. 李四（华中科技大学），匹配：风机叶片覆冰；领域：新能源与节能（有意向）"), std::string::npos)
      << list;
  EXPECT_NE(list.find("2. 赵六（华中科技大学），匹配：叶片覆冰；领域：新能源与节能（尚未推送）"), std::string::npos)
      << list;
  EXPECT_EQ(list.find("王五"), std::string::npos) << "not of the field: " << list;
  EXPECT_FALSE(Say(2, "推荐人选")) << "a researcher is no enterprise";
}

TEST_F(TalksTest, WhatTheEngineAnswersIsNeverRelayed) {
  ASSERT_TRUE(Say(1, "洽谈 2"));
  EXPECT_FALSE(Say(3, "我的需求", true));
  EXPECT_EQ(Scalar("SELECT count(*) FROM relay_messages"), 0);
  const auto relayed = Say(3, "好的");
  ASSERT_TRUE(relayed);
  EXPECT_TRUE(relayed->replies.empty());
  ASSERT_EQ(relayed->outbox.size(), 1U);
  EXPECT_EQ(relayed->outbox[0].recipient, "zhangsan");
  EXPECT_EQ(relayed->outbox[0].kind, "relay");
  EXPECT_EQ(Scalar("SELECT count(*) FROM relay_messages WHERE from_person_id = 3 AND body = '好的'"), 1);
}

}  // namespace
}  // namespace duijie::dialogs
