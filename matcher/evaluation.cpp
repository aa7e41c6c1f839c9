#include "matcher/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace duijie::matcher {
namespace {

double Gain(int grade) { return std::pow(2.0, grade) - 1; }
double Discount(std::size_t rank0) { return 1.0 / std::log2(static_cast<double>(rank0) + 2); }

}  // namespace

RankingScore ScoreRanking(const std::vector<std::int64_t>& ranked, const Judgements& judgements) {
  RankingScore score;
  std::vector<int> grades;
  std::size_t relevant = 0;
  for (const auto& [id, grade] : judgements) {
    if (grade <= 0) continue;
    grades.push_back(grade);
    ++relevant;
    score.has_grade2 = score.has_grade2 || grade >= 2;
  }
  std::sort(grades.begin(), grades.end(), std::greater<>());
  double ideal = 0;
  for (std::size_t i = 0; i < grades.size() && i < 10; ++i) {
    ideal += Gain(grades[i]) * Discount(i);
  }
  double dcg = 0;
  std::size_t found20 = 0;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto it = judgements.find(ranked[i]);
    const int grade = it == judgements.end() ? 0 : it->second;
    if (i < 10) dcg += Gain(grade) * Discount(i);
    if (i < 20 && grade >= 1) ++found20;
    if (grade >= 2 && score.rr == 0) score.rr = 1.0 / static_cast<double>(i + 1);
  }
  score.ndcg10 = ideal > 0 ? dcg / ideal : 0;
  score.recall20 = relevant > 0 ? static_cast<double>(found20) / static_cast<double>(relevant) : 0;
  return score;
}

RankingSummary Summarise(const std::vector<RankingScore>& scores) {
  RankingSummary summary;
  summary.queries = scores.size();
  std::size_t with_grade2 = 0;
  for (const RankingScore& s : scores) {
    summary.ndcg10 += s.ndcg10;
    summary.recall20 += s.recall20;
    if (s.has_grade2) {
      summary.mrr += s.rr;
      ++with_grade2;
    }
  }
  if (!scores.empty()) {
    summary.ndcg10 /= static_cast<double>(scores.size());
    summary.recall20 /= static_cast<double>(scores.size());
  }
  if (with_grade2 > 0) summary.mrr /= static_cast<double>(with_grade2);
  return summary;
}

}  // namespace duijie::matcher
