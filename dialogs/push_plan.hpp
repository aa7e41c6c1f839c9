#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <vector>

#include "dialogs/programme.hpp"
#include "matcher/matcher.hpp"
#include "store/matching.hpp"

namespace duijie::dialogs {

/// Who gets a published need (issue 6): the best candidates above a score floor, never a
/// researcher already at the weekly cap, and enough of them that every need reaches someone.
struct PushPolicy {
  int per_week = 3;      // pushes one researcher may get in any 7 days, across all needs
  int per_need_min = 5;  // a need reaches at least this many when candidates exist
  int per_need_max = 10;
  double score_floor = 0.35;  // share of the best score; below it only to reach per_need_min
};

/// The researchers to push one need to, best first. `ranked` is the matcher's list for the need
/// (already without opted-out, ineligible and at-capacity people, best first); `pushes_this_week`
/// says how many pushes a researcher has had in the last 7 days.
[[nodiscard]] std::vector<std::int64_t> PlanPushes(std::span<const matcher::Match> ranked, const PushPolicy& policy,
                                                   const std::function<int(std::int64_t researcher)>& pushes_this_week);

/// How much "不是我的领域" (not my field) weighs on later pushes of needs in the same field to
/// the same researcher: each such answer in that field multiplies the match score by this.
inline constexpr float kNotMyFieldFactor = 0.5F;

/// The factor for a candidate who has declined `declines_in_field` needs of this field as not
/// theirs: 1, 0.5, 0.25 … (floored at 0.1, so a strong match can still come through).
[[nodiscard]] float NotMyFieldFactor(int declines_in_field);

/// The matcher's candidates for a need made into the list push planning and staff see: people
/// of an ineligible type (the programme's rule) or at capacity left out, each "not my field"
/// answer in this field weighing the score down, best first, at most `limit`.
[[nodiscard]] std::vector<matcher::Match> Shortlist(std::vector<matcher::Match> candidates,
                                                    const std::map<std::int64_t, store::Standing>& standings,
                                                    const Programme& programme, std::size_t limit);

}  // namespace duijie::dialogs
