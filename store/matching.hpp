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

/// Pushes per researcher created since `since_ms` (for the weekly cap).
[[nodiscard]] std::map<std::int64_t, int> PushesSince(Connection& conn, std::int64_t since_ms);

/// Per researcher, how many needs of this field they declined as "not my field"
/// (pushes.decline_reason = 'not_my_field').
[[nodiscard]] std::map<std::int64_t, int> NotMyFieldDeclines(Connection& conn, const std::string& field);

}  // namespace duijie::store
