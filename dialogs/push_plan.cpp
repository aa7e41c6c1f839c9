#include "dialogs/push_plan.hpp"

#include <algorithm>
#include <cmath>

namespace duijie::dialogs {

std::vector<std::int64_t> PlanPushes(std::span<const matcher::Match> ranked, const PushPolicy& policy,
                                     const std::function<int(std::int64_t researcher)>& pushes_this_week) {
  std::vector<std::int64_t> chosen;
  if (ranked.empty() || policy.per_need_max <= 0) return chosen;
  const double floor = policy.score_floor * ranked.front().score;
  const auto max = static_cast<std::size_t>(policy.per_need_max);
  const auto min = static_cast<std::size_t>(std::min(policy.per_need_min, policy.per_need_max));
  std::vector<std::int64_t> below_floor;
  for (const matcher::Match& match : ranked) {
    if (chosen.size() >= max) break;
    if (pushes_this_week && pushes_this_week(match.id) >= policy.per_week) continue;
    // One push per researcher and need, even if a list names someone twice.
    const auto taken = [&match](const std::vector<std::int64_t>& ids) {
      return std::find(ids.begin(), ids.end(), match.id) != ids.end();
    };
    if (taken(chosen) || taken(below_floor)) continue;
    if (match.score >= floor) {
      chosen.push_back(match.id);
    } else if (chosen.size() + below_floor.size() < min) {
      below_floor.push_back(match.id);
    }
  }
  // Below the floor only to reach the minimum: a weak match beats no one answering at all.
  for (const std::int64_t id : below_floor) {
    if (chosen.size() >= min) break;
    chosen.push_back(id);
  }
  return chosen;
}

float NotMyFieldFactor(int declines_in_field) {
  if (declines_in_field <= 0) return 1.0F;
  return std::max(0.1F, std::pow(kNotMyFieldFactor, static_cast<float>(declines_in_field)));
}

std::vector<matcher::Match> Shortlist(std::vector<matcher::Match> candidates,
                                      const std::map<std::int64_t, store::Standing>& standings,
                                      const Programme& programme, std::size_t limit) {
  std::erase_if(candidates, [&](matcher::Match& m) {
    const auto it = standings.find(m.id);
    if (it == standings.end()) return true;  // no longer a researcher
    const store::Standing& s = it->second;
    const EligibilityType* type = programme.FindEligibility(s.eligibility);
    if (type != nullptr && !type->eligible) return true;
    if (s.active >= s.capacity) return true;
    m.score *= NotMyFieldFactor(s.not_my_field);
    return false;
  });
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const matcher::Match& x, const matcher::Match& y) { return x.score > y.score; });
  if (candidates.size() > limit) candidates.resize(limit);
  return candidates;
}

}  // namespace duijie::dialogs
