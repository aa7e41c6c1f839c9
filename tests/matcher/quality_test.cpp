// The matcher's quality on the dev set, as a floor: a change to analysis or scoring that loses
// ranking quality fails here, before anyone runs bench/match_quality. The floors sit a little
// under the figures recorded in docs/BENCHMARKS.md and well above the bigram baseline (0.801 and
// 0.866).
#include <filesystem>

#include <gtest/gtest.h>

#include "match_data.hpp"
#include "matcher/evaluation.hpp"
#include "matcher/matcher.hpp"

namespace duijie::matcher {
namespace {

TEST(MatchQuality, DevSetStaysAboveTheFloorInBothDirections) {
  const auto data = bench::LoadMatchDataset(std::filesystem::path(DUIJIE_TEST_DATA_DIR) / "data" / "matching-dev");
  Matcher matcher(Analyzer{});
  for (const auto& r : data.researchers) matcher.Upsert(r);
  for (const auto& n : data.needs) matcher.Upsert(n);

  std::vector<RankingScore> researchers_for_need;
  for (const auto& n : data.needs) {
    const auto it = data.researchers_for_need.find(n.id);
    if (it == data.researchers_for_need.end()) continue;
    std::vector<std::int64_t> ranked;
    for (const auto& m : matcher.ResearchersFor(n, 20)) ranked.push_back(m.id);
    researchers_for_need.push_back(ScoreRanking(ranked, it->second));
  }
  std::vector<RankingScore> needs_for_researcher;
  for (const auto& r : data.researchers) {
    const auto it = data.needs_for_researcher.find(r.id);
    if (it == data.needs_for_researcher.end()) continue;
    std::vector<std::int64_t> ranked;
    for (const auto& m : matcher.NeedsFor(r, 20)) ranked.push_back(m.id);
    needs_for_researcher.push_back(ScoreRanking(ranked, it->second));
  }
  const auto n2r = Summarise(researchers_for_need);
  const auto r2n = Summarise(needs_for_researcher);
  EXPECT_EQ(n2r.queries, 90U);
  EXPECT_EQ(r2n.queries, 327U);
  EXPECT_GE(n2r.ndcg10, 0.87);
  EXPECT_GE(r2n.ndcg10, 0.91);
  EXPECT_GE(n2r.recall20, 0.90);
}

}  // namespace
}  // namespace duijie::matcher
