#include "matcher/matcher.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <unordered_map>
#include <vector>

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

// NeedsFor's scores the slow way, from two plain indexes over the same texts: the direct score's
// share of the best, plus the researcher's fit from each need's side (the need's query scored
// against the researcher) over 0.3 × the need's query weight, capped at 1.
std::unordered_map<std::int64_t, float> ReciprocalOracle(const std::vector<Researcher>& pool,
                                                         const std::vector<Need>& needs, const Researcher& self) {
  const Analyzer analyzer;
  const MatcherOptions options;
  auto weight = [&options](float f) { return (options.query_k3 + 1) * f / (options.query_k3 + f); };
  auto researcher_texts = [](const Researcher& r, std::string& keywords) {
    keywords.clear();
    for (const auto& k : r.keywords) keywords += (keywords.empty() ? "" : " ") + k;
    return std::array<WeightedText, 2>{WeightedText{keywords, 1}, WeightedText{r.bio, 1}};
  };
  auto need_texts = [](const Need& n) {
    return std::array<WeightedText, 2>{WeightedText{n.title, 1}, WeightedText{n.description, 1}};
  };
  Index researchers(analyzer);
  Index need_index(analyzer);
  std::string keywords;
  DocId self_doc = 0;
  for (const auto& r : pool) {
    const DocId doc = researchers.Add(researcher_texts(r, keywords));
    if (r.id == self.id) self_doc = doc;
  }
  for (const auto& n : needs) need_index.Add(need_texts(n));
  auto agree = [&self, &options](const Need& n) {
    return std::find(self.fields.begin(), self.fields.end(), n.field) != self.fields.end() ? 1 + options.field_boost
                                                                                           : 1.0F;
  };
  std::vector<QueryTerm> on_needs = need_index.MakeQuery(researcher_texts(self, keywords));
  for (auto& t : on_needs) t.weight = weight(t.weight);
  const std::vector<QueryTerm> own = researchers.MakeQuery(researcher_texts(self, keywords));
  std::vector<float> direct(needs.size(), 0);
  for (DocId d = 0; d < needs.size(); ++d) {
    for (const auto& t : on_needs) direct[d] += need_index.TermScore(t, d);
    direct[d] *= agree(needs[d]);
  }
  const float best_direct = *std::max_element(direct.begin(), direct.end());
  std::unordered_map<std::int64_t, float> scores;
  for (DocId d = 0; d < needs.size(); ++d) {
    if (direct[d] <= 0) continue;
    float pair = 0;
    float total = 0;
    for (const auto& t : researchers.MakeQuery(need_texts(needs[d]))) {
      total += weight(t.weight) * researchers.Idf(t.term);
      for (const auto& o : own) {
        if (o.term == t.term) {
          pair += weight(t.weight) *
                  researchers.Contribution(t.term, static_cast<std::uint32_t>(o.weight), researchers.Length(self_doc));
        }
      }
    }
    pair *= agree(needs[d]);
    scores[needs[d].id] = direct[d] / best_direct + std::min(pair / (0.3F * total), 1.0F);
  }
  return scores;
}

TEST(MatcherReciprocal, NeedsForScoresAreTheDirectShareAndTheFitFromTheNeedsSide) {
  const std::vector<Researcher> pool{
      MakeResearcher(1, {"新能源"}, {"风电机组", "叶片覆冰", "防冰涂层"}, "研究风机叶片覆冰机理与超疏水防冰涂层。"),
      MakeResearcher(2, {"建筑与土木"}, {"隧道防排水", "渗漏治理"}, "研究隧道渗漏水与冬季挂冰的成因和整治技术。"),
      MakeResearcher(3, {"新能源"}, {"锂电池", "电解液", "低温性能"}, "研究锂电池电解液配方与低温性能。"),
      MakeResearcher(4, {"新材料"}, {"超疏水表面", "涂层"}, "研究低冰黏附涂层与表面防冰。"),
  };
  // Needs in an order where the direct ranking and the document order differ.
  const std::vector<Need> needs{
      Need{20, "涂层", "隧道衬砌表面涂层老化，冬季挂冰。", "建筑与土木", ""},
      Need{21, "锂电池低温", "冬季电解液低温性能差，续航下降。", "新能源", ""},
      Need{22, "风机叶片冬天挂冰", "叶片覆冰停机，想用防冰涂层。", "新能源", ""},
      Need{23, "隧道渗水", "施工缝渗漏水，冬季拱顶挂冰。", "建筑与土木", ""},
      Need{24, "防冰涂层", "超疏水表面涂层在风机叶片上的防冰效果。", "新材料", ""},
  };
  // Needs first, then researchers: a need's yardstick made before the pool filled is made again.
  Matcher matcher(Analyzer{});
  for (const auto& n : needs) matcher.Upsert(n);
  for (const auto& r : pool) matcher.Upsert(r);
  for (const auto& self : pool) {
    const auto expected = ReciprocalOracle(pool, needs, self);
    const auto matches = matcher.NeedsFor(self, needs.size());
    ASSERT_EQ(matches.size(), expected.size()) << self.id;
    for (std::size_t i = 0; i < matches.size(); ++i) {
      EXPECT_NEAR(matches[i].score, expected.at(matches[i].id), 1e-4F) << "researcher " << self.id;
      if (i > 0) EXPECT_GE(matches[i - 1].score, matches[i].score);
    }
  }
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
