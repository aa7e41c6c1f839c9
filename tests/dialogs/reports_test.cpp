// The need list and the funnel against a seeded database with a known history.
#include "dialogs/reports.hpp"

#include <gtest/gtest.h>

#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr std::int64_t kHour = 3'600'000;

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("武汉风电科技", "hb01", "energy");
    auto& db = db_.Conn().Db();
    db.exec(R"sql(
      INSERT INTO people (id, role, status, created_at, updated_at) VALUES (2, 'enterprise_contact', 'verified', 0, 0);
      INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, status, created_at, updated_at)
        VALUES (2, '宜昌生物医药', '91350100M000100Y43', 'hb04', 'biomed', 2, 'verified', 0, 0);
      INSERT INTO needs (id, enterprise_id, programme_id, title, problem, targets, category, field, amount_wan, deadline, stage, created_at, updated_at) VALUES
        (1, 1, 1, '风机叶片覆冰', '冬天挂冰', '两小时内恢复', 'product', 'energy', 20, '2021-03-31', 'published', 0, 0),
        (2, 2, 1, '药物缓释, "长效"', '释放太快', '', 'common_tech', NULL, 15.5, NULL, 'contracted', 0, 0),
        (3, 1, 1, '草稿需求', '', '', NULL, 'energy', NULL, NULL, 'draft', 0, 0),
        (4, 1, 1, '储能热管理', '', '', 'product', 'energy', 30, NULL, 'in_talks', 0, 0);
      INSERT INTO transitions (entity, entity_id, from_state, to_state, channel, at) VALUES
        ('need', 1, 'draft', 'submitted', 'wecom', 0),
        ('need', 1, 'submitted', 'recommended', 'api', 10 * 3600000),
        ('need', 1, 'recommended', 'published', 'api', 30 * 3600000),
        ('need', 2, 'draft', 'submitted', 'wecom', 0),
        ('need', 2, 'submitted', 'recommended', 'api', 20 * 3600000),
        ('need', 2, 'recommended', 'published', 'api', 40 * 3600000),
        ('need', 2, 'published', 'contracted', 'wecom', 100 * 3600000),
        ('need', 4, 'draft', 'submitted', 'wecom', 0),
        ('need', 4, 'submitted', 'returned', 'api', 5 * 3600000),
        ('need', 4, 'returned', 'submitted', 'wecom', 8 * 3600000),
        ('need', 4, 'submitted', 'recommended', 'api', 40 * 3600000);
    )sql");
  }

  test::TestDb db_;
  const Programme& programme_ = Programme::Embedded().at("hubei-2020");
  const Staff admin_{"hq", "admin", std::nullopt};
};

TEST_F(ReportsTest, TheNeedListIsByIndustryWithTheProgrammesNames) {
  const auto rows = NeedList(db_.Conn(), programme_, admin_);
  ASSERT_EQ(rows.size(), 3U) << "the draft is not listed";
  // The programme lists 生物医药 before 新能源: by industry, then id.
  EXPECT_EQ(rows[0].id, 2);
  EXPECT_EQ(rows[0].industry, "生物与新医药") << "the enterprise's industry when the need has no field";
  EXPECT_EQ(rows[0].region, "宜昌市");
  EXPECT_EQ(rows[0].amount_wan, 15.5);
  EXPECT_EQ(rows[1].id, 1);
  EXPECT_EQ(rows[1].industry, "新能源与节能");
  EXPECT_EQ(rows[1].category, "产品创新与技术攻关类");
  EXPECT_EQ(rows[1].region, "武汉市");
  EXPECT_EQ(rows[2].id, 4);
  const auto only = NeedList(db_.Conn(), programme_, admin_, {"draft"});
  ASSERT_EQ(only.size(), 1U);
  EXPECT_EQ(only[0].id, 3);
  const auto wuhan = NeedList(db_.Conn(), programme_, Staff{"wuhan", "bureau_reviewer", "hb01"});
  ASSERT_EQ(wuhan.size(), 2U) << "a bureau sees its region only";
}

TEST_F(ReportsTest, FunnelCountsConversionAndMedianTimeFromTheTransitions) {
  const json f = Funnel(db_.Conn(), programme_, admin_);
  EXPECT_EQ(f["needs"]["by_stage"]["published"], 1);
  EXPECT_EQ(f["needs"]["by_stage"]["draft"], 1);
  EXPECT_EQ(f["needs"]["by_region"]["武汉市"]["in_talks"], 1);
  EXPECT_EQ(f["needs"]["by_field"]["生物与新医药"]["contracted"], 1);
  const auto& steps = f["steps"];
  ASSERT_GE(steps.size(), 2U);
  // submitted → recommended: all three, after 10, 20 and 40 hours (from the first submission).
  EXPECT_EQ(steps[0]["from"], "submitted");
  EXPECT_EQ(steps[0]["entered"], 3);
  EXPECT_EQ(steps[0]["moved_on"], 3);
  EXPECT_DOUBLE_EQ(steps[0]["median_hours"].get<double>(), 20.0);
  // recommended → published: two of three, 20 hours each.
  EXPECT_EQ(steps[1]["entered"], 3);
  EXPECT_EQ(steps[1]["moved_on"], 2);
  EXPECT_NEAR(steps[1]["conversion"].get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(steps[1]["median_hours"].get<double>(), 20.0);
  EXPECT_EQ(steps[2]["from"], "published");
  EXPECT_EQ(steps[2]["moved_on"], 0) << "need 2 skipped straight to contracted: not the next stage";
  EXPECT_TRUE(f.contains("people"));
  const json wuhan = Funnel(db_.Conn(), programme_, Staff{"wuhan", "bureau_reviewer", "hb01"});
  EXPECT_EQ(wuhan["scope"], "hb01");
  EXPECT_FALSE(wuhan["needs"]["by_stage"].contains("contracted"));
  EXPECT_EQ(wuhan["steps"][0]["entered"], 2);
  EXPECT_FALSE(wuhan.contains("people"));
}

}  // namespace
}  // namespace duijie::dialogs
