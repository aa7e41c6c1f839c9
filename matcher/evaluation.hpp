#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace duijie::matcher {

/// Graded relevance of candidates for one query: 2 = can clearly solve it, 1 = could contribute;
/// unlisted candidates are 0.
using Judgements = std::unordered_map<std::int64_t, int>;

/// The ranking measures of bench/match_quality for one query.
struct RankingScore {
  double ndcg10 = 0;    // gain 2^grade − 1, log2 discount, normalised by the ideal order
  double recall20 = 0;  // share of grade ≥ 1 candidates in the first 20
  double rr = 0;        // 1 / rank of the first grade-2 candidate, 0 when none is ranked
  bool has_grade2 = false;
};

[[nodiscard]] RankingScore ScoreRanking(const std::vector<std::int64_t>& ranked, const Judgements& judgements);

/// Means over queries; MRR over the queries that have a grade-2 candidate.
struct RankingSummary {
  std::size_t queries = 0;
  double ndcg10 = 0;
  double recall20 = 0;
  double mrr = 0;
};

[[nodiscard]] RankingSummary Summarise(const std::vector<RankingScore>& scores);

}  // namespace duijie::matcher
