#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matcher/matcher.hpp"
#include "store/connection.hpp"

namespace duijie::store {

/// The needs open to matching: published and not yet contracted, withdrawn or expired.
inline constexpr const char* kMatchableStages = "('published', 'matching', 'proposals', 'shortlisted', 'in_talks')";

/// Everything the matcher indexes, read in two queries: researchers not refused (with their
/// programme field ids, keywords, bio and region) and the matchable needs (title; problem,
/// targets and constraints as the description; the enterprise's region).
struct MatchingPool {
  std::vector<matcher::Researcher> researchers;
  std::vector<matcher::Need> needs;
};
[[nodiscard]] MatchingPool LoadMatchingPool(Connection& conn);

/// What changed since `since_ms` (updated_at at or after it): profiles to index again and ids to
/// drop (refused researchers, needs that left the matchable stages), plus the newest updated_at
/// seen, the next call's `since_ms`.
struct MatchingChanges {
  std::vector<matcher::Researcher> researchers;
  std::vector<std::int64_t> removed_researchers;
  std::vector<matcher::Need> needs;
  std::vector<std::int64_t> removed_needs;
  std::int64_t newest = 0;
};
[[nodiscard]] MatchingChanges LoadMatchingChanges(Connection& conn, std::int64_t since_ms);

/// One need whatever its stage, or one researcher by person id; nullopt when there is none.
[[nodiscard]] std::optional<matcher::Need> LoadNeed(Connection& conn, std::int64_t need_id);
[[nodiscard]] std::optional<matcher::Researcher> LoadResearcher(Connection& conn, std::int64_t person_id);

/// Who a researcher is, for listings: display name, unit and title (any may be empty).
struct ResearcherLabel {
  std::string name;
  std::string unit;
  std::string title;
};
[[nodiscard]] ResearcherLabel LabelResearcher(Connection& conn, std::int64_t person_id);

/// What decides whether a candidate may get a need apart from the text: the eligibility type, how
/// many projects they take at once (researchers.capacity), how many they are in now (pushes
/// interested, shortlisted, talking or chosen), and their "not my field" answers for needs of
/// the given field.
struct Standing {
  std::string eligibility;
  int capacity = 1;
  int active = 0;
  int not_my_field = 0;
};
[[nodiscard]] std::map<std::int64_t, Standing> LoadStandings(Connection& conn, const std::string& field,
                                                             const std::vector<std::int64_t>& researchers);

/// Pushes per researcher created since `since_ms` (for the weekly cap).
[[nodiscard]] std::map<std::int64_t, int> PushesSince(Connection& conn, std::int64_t since_ms);

}  // namespace duijie::store
