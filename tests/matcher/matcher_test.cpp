#include "matcher/matcher.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace duijie::matcher {
namespace {

Researcher MakeResearcher(std::int64_t id, std::vector<std::string> fields, std::vector<std::string> keywords,
                          std::string bio, std::string region = "湖北") {
  return Researcher{id, std::move(fields), std::move(keywords), std::move(bio), std::move(region), "university_staff"};
}

std::vector<std::int64_t> Ids(const std::vector<Match>& matches) {
  std::vector<std::int64_t> ids;
  for (const auto& m : matches) ids.push_back(m.id);
  return ids;
}

class MatcherTest : public ::testing::Test {
 protected:
  MatcherTest() : matcher_(Analyzer{}) {
    matcher_.Upsert(MakeResearcher(1, {"新能源"}, {"风电机组", "叶片覆冰", "防冰涂层"},
                                   "研究风机叶片覆冰机理与超疏水防冰涂层，服务多个山区风电场。"));
    matcher_.Upsert(
        MakeResearcher(2, {"建筑与土木"}, {"隧道防排水", "渗漏治理"}, "研究隧道渗漏水与冬季挂冰的成因和整治技术。"));
    matcher_.Upsert(
        MakeResearcher(3, {"新能源"}, {"锂电池", "电解液", "低温性能"}, "研究锂电池电解液配方与低温性能。"));
    matcher_.Upsert(Need{10, "风机叶片冬天挂冰只能停机", "山区风电场冬季叶片覆冰，发电量损失大。", "新能源", "湖北"});
    matcher_.Upsert(Need{11, "隧道渗水、冬季拱顶挂冰", "高速隧道施工缝渗水，冬季挂冰。", "建筑与土木", "湖北"});
  }
  Matcher matcher_;
};

TEST_F(MatcherTest, FindsTheResearcherWhoCanSolveTheNeedAndSaysWhy) {
  const auto matches =
      matcher_.ResearchersFor(Need{99, "风机叶片冬天挂冰", "叶片覆冰后只能停机。", "新能源", "湖北"}, 3);
  ASSERT_FALSE(matches.empty());
  EXPECT_EQ(matches[0].id, 1);
  EXPECT_EQ(matches[0].shared_field, "新能源");
  ASSERT_FALSE(matches[0].terms.empty());
  // Phrases, not bigrams: adjacent matched bigrams join up.
  EXPECT_NE(std::find(matches[0].terms.begin(), matches[0].terms.end(), "风机叶片"), matches[0].terms.end());
  EXPECT_LE(matches[0].terms.size(), matcher_.Options().explain_terms);
}

TEST_F(MatcherTest, FieldAgreementBreaksTheTieBetweenSharedWords) {
  // "挂冰" is in both researchers' texts; the need's field decides.
  const auto civil = matcher_.ResearchersFor(Need{98, "冬季挂冰", "", "建筑与土木", ""}, 2);
  ASSERT_EQ(civil.size(), 2U);
  EXPECT_EQ(civil[0].id, 2);
  EXPECT_EQ(civil[0].shared_field, "建筑与土木");
  EXPECT_TRUE(civil[1].shared_field.empty());
}

TEST_F(MatcherTest, AllowFiltersCandidatesOut) {
  const Need need{99, "风机叶片冬天挂冰", "叶片覆冰", "新能源", "湖北"};
  const auto matches = matcher_.ResearchersFor(need, 5, [](std::int64_t id) { return id != 1; });
  const auto ids = Ids(matches);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 0);
  EXPECT_FALSE(matches.empty());
}

TEST_F(MatcherTest, AFactorBelowOneRanksACandidateLower) {
  const Need need{99, "冬季挂冰", "", "", ""};
  auto ids = Ids(matcher_.ResearchersFor(need, 2));
  ASSERT_EQ(ids.size(), 2U);
  const std::int64_t first = ids[0];
  ids = Ids(matcher_.ResearchersFor(need, 2, [first](std::int64_t id) { return id == first ? 0.01F : 1.0F; }));
  ASSERT_EQ(ids.size(), 2U);
  EXPECT_EQ(ids[1], first);
}

TEST_F(MatcherTest, NeedsForAResearcherBothInAndOutOfThePool) {
  const Researcher inside =
      MakeResearcher(2, {"建筑与土木"}, {"隧道防排水", "渗漏治理"}, "研究隧道渗漏水与冬季挂冰的成因和整治技术。");
  auto matches = matcher_.NeedsFor(inside, 2);
  ASSERT_FALSE(matches.empty());
  EXPECT_EQ(matches[0].id, 11);
  // A profile not in the pool yet (a preview) is ranked without the reciprocal step.
  const Researcher outside = MakeResearcher(77, {"新能源"}, {"风机叶片防冰"}, "叶片覆冰");
  matches = matcher_.NeedsFor(outside, 2);
  ASSERT_FALSE(matches.empty());
  EXPECT_EQ(matches[0].id, 10);
}

TEST_F(MatcherTest, UpsertReplacesAndRemoveForgets) {
  matcher_.Upsert(MakeResearcher(3, {"新能源"}, {"风机叶片防冰"}, "叶片覆冰、挂冰"));
  EXPECT_EQ(matcher_.ResearcherCount(), 3U);
  auto ids = Ids(matcher_.ResearchersFor(Need{97, "锂电池电解液", "", "新能源", ""}, 5));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 3), 0) << "the old profile's words are gone";
  matcher_.RemoveResearcher(1);
  matcher_.RemoveResearcher(1);
  EXPECT_EQ(matcher_.ResearcherCount(), 2U);
  ids = Ids(matcher_.ResearchersFor(Need{96, "叶片覆冰", "", "新能源", ""}, 5));
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 3);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 0);
  matcher_.Upsert(Need{10, "锂电池", "", "新能源", ""});
  matcher_.RemoveNeed(11);
  EXPECT_EQ(matcher_.NeedCount(), 1U);
  ids = Ids(matcher_.NeedsFor(MakeResearcher(5, {}, {"锂电池"}, ""), 5));
  EXPECT_EQ(ids, (std::vector<std::int64_t>{10}));
}

TEST(MatcherSynonyms, AQueryWordAlsoFindsItsSynonymsAtALowerWeight) {
  const Researcher coating = MakeResearcher(1, {"新材料"}, {"覆冰防护"}, "研究叶片表面覆冰");
  const Researcher other = MakeResearcher(2, {"新材料"}, {"隧道衬砌"}, "研究隧道施工");
  const Need need{1, "冬天挂冰", "", "新材料", ""};
  Matcher plain(Analyzer{});
  plain.Upsert(coating);
  plain.Upsert(other);
  auto matches = plain.ResearchersFor(need, 5);
  const float before = matches.empty() ? 0 : matches[0].score;  // only the shared 冰 character
  MatcherOptions options;
  options.synonyms = {{"挂冰", "覆冰", "防冰"}, {"隧道", "盾构"}};
  Matcher expanded(Analyzer{}, options);
  expanded.Upsert(coating);
  expanded.Upsert(other);
  matches = expanded.ResearchersFor(need, 5);
  ASSERT_FALSE(matches.empty());
  EXPECT_EQ(matches[0].id, 1);
  EXPECT_GT(matches[0].score, before);
  // Only groups the query touches are expanded: the tunnel researcher is not found.
  for (const auto& m : matches) EXPECT_NE(m.id, 2);
}

TEST(MatcherRegion, RegionBoostPrefersTheSameRegionWhenAsked) {
  MatcherOptions options;
  options.region_boost = 0.5F;
  Matcher matcher(Analyzer{}, options);
  matcher.Upsert(MakeResearcher(1, {"化工"}, {"催化剂"}, "", "吉林"));
  matcher.Upsert(MakeResearcher(2, {"化工"}, {"催化剂"}, "", "湖北"));
  const auto ids = Ids(matcher.ResearchersFor(Need{1, "催化剂", "", "化工", "湖北"}, 2));
  EXPECT_EQ(ids, (std::vector<std::int64_t>{2, 1}));
}

}  // namespace
}  // namespace duijie::matcher
