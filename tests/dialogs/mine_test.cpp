// "我的" deadlines: the programme's milestones still ahead, with the days left, none once past
// (the embedded editions' dates are past, so the milestones are moved here).
#include "dialogs/mine.hpp"

#include <gtest/gtest.h>

#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

TEST(Mine, DeadlinesAheadWithTheDaysLeftAndNoneOncePast) {
  test::TestDb db;
  Programme programme = Programme::Embedded().at("hubei-2020");
  programme.milestones[0].date = "2026-12-31";  // 企业填报技术需求
  programme.milestones[1].date = "2027-02-28";  // 签订技术开发合同
  const Date today{2026, 11, 22};
  const auto ask = [&](const std::string& text, const Date& day) {
    return AnswerMine(db.Conn(), programme, Catalogue::Embedded(), 1, "zh-CN", text, day, false);
  };
  EXPECT_EQ(*ask("截止日期", today),
            "即将到来的截止日期：\n· 企业填报技术需求：2026-12-31（还有39天）\n· "
            "完成技术对接，签订技术开发合同：2027-02-28（还有98天）");
  EXPECT_EQ(*ask("截止日期", {2027, 3, 1}), "近期没有需要关注的截止日期。");
  EXPECT_EQ(*ask("我的", {2027, 3, 1}), "您目前还没有需求、推送或洽谈。回复“菜单”查看能做什么。");
  EXPECT_FALSE(ask("我的东西", today));
}

}  // namespace
}  // namespace duijie::dialogs
