#include "dialogs/programme.hpp"

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

using nlohmann::json;

TEST(Programme, BothEditionsInTheSeedsAreCompiledInAndValid) {
  const auto& all = Programme::Embedded();
  ASSERT_TRUE(all.contains("hubei-2020"));
  ASSERT_TRUE(all.contains("jilin-kechuang"));
  const auto& hubei = all.at("hubei-2020");
  EXPECT_EQ(hubei.minimum_amount_wan, 10);  // 单个需求金额不低于10万元
  ASSERT_EQ(hubei.categories.size(), 5U);   // the five categories of 一（二）
  EXPECT_EQ(hubei.categories[0].name, "产品创新与技术攻关类");
  EXPECT_EQ(hubei.regions.size(), 17U);
  ASSERT_EQ(hubei.review_chain.size(), 2U);  // 地方初审（推荐意见）→ 平台审核
  EXPECT_EQ(hubei.review_chain[0].role, "bureau_reviewer");
  EXPECT_TRUE(hubei.review_chain[0].recommendation);
  const auto* masters = hubei.FindEligibility("masters_student");
  ASSERT_NE(masters, nullptr);
  EXPECT_FALSE(masters->eligible);
  EXPECT_FALSE(masters->rule.empty());
  EXPECT_TRUE(hubei.FindEligibility("university_phd")->eligible);
  EXPECT_EQ(all.at("jilin-kechuang").raw["researcher"]["max_per_enterprise_per_unit"], 2);
}

TEST(Programme, ABrokenDefinitionNamesTheProblem) {
  json doc = Programme::Embedded().at("hubei-2020").raw;
  doc["need"]["categories"][1]["id"] = "product";
  auto r = Programme::FromJson(doc);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"product\" is used twice"), std::string::npos);

  doc = Programme::Embedded().at("hubei-2020").raw;
  doc["review_chain"][0]["role"] = "mayor";
  EXPECT_NE(Programme::FromJson(doc).error().message.find("review_chain"), std::string::npos);

  doc = Programme::Embedded().at("hubei-2020").raw;
  doc["researcher"]["eligibility"][6].erase("rule");
  EXPECT_NE(Programme::FromJson(doc).error().message.find("needs its rule"), std::string::npos);

  doc = Programme::Embedded().at("hubei-2020").raw;
  doc["milestones"][0]["date"] = "2020年12月";
  EXPECT_NE(Programme::FromJson(doc).error().message.find("milestones"), std::string::npos);
  EXPECT_FALSE(Programme::FromJson(json::array()));
}

}  // namespace
}  // namespace duijie::dialogs
