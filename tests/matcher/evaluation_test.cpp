#include "matcher/evaluation.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace duijie::matcher {
namespace {

TEST(ScoreRanking, PerfectOrderScoresOne) {
  const Judgements j{{1, 2}, {2, 1}};
  const RankingScore s = ScoreRanking({1, 2, 3}, j);
  EXPECT_DOUBLE_EQ(s.ndcg10, 1.0);
  EXPECT_DOUBLE_EQ(s.recall20, 1.0);
  EXPECT_DOUBLE_EQ(s.rr, 1.0);
  EXPECT_TRUE(s.has_grade2);
}

TEST(ScoreRanking, GainsAndDiscountsByHand) {
  const Judgements j{{1, 2}, {2, 1}};
  const RankingScore s = ScoreRanking({9, 2, 1}, j);
  const double dcg = 1 / std::log2(3.0) + 3 / std::log2(4.0);
  const double ideal = 3 + 1 / std::log2(3.0);
  EXPECT_NEAR(s.ndcg10, dcg / ideal, 1e-12);
  EXPECT_DOUBLE_EQ(s.rr, 1.0 / 3);
}

TEST(ScoreRanking, OnlyTheFirstTwentyCountForRecallAndTenForNdcg) {
  std::vector<std::int64_t> ranked;
  for (int i = 100; i < 120; ++i) ranked.push_back(i);
  ranked.push_back(1);
  const RankingScore s = ScoreRanking(ranked, {{1, 2}});
  EXPECT_DOUBLE_EQ(s.ndcg10, 0);
  EXPECT_DOUBLE_EQ(s.recall20, 0);
  EXPECT_DOUBLE_EQ(s.rr, 1.0 / 21);
}

TEST(Summarise, MrrOnlyOverQueriesWithAGradeTwo) {
  const RankingSummary s = Summarise({ScoreRanking({1}, {{1, 2}}), ScoreRanking({5, 1}, {{1, 1}})});
  EXPECT_EQ(s.queries, 2U);
  EXPECT_DOUBLE_EQ(s.mrr, 1.0);
  EXPECT_DOUBLE_EQ(s.recall20, 1.0);
}

}  // namespace
}  // namespace duijie::matcher
