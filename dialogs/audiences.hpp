#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/staff.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// Who a broadcast goes to: a filter over people (all given conditions hold). Stages name what a
/// person still owes in the programme, read from the records (needs, pushes, proposals,
/// contracts), never from a flag someone must remember to clear — so a person who does the step
/// drops out of the next reminder by themselves.
struct Audience {
  std::vector<std::string> roles;     // enterprise_contact, researcher, staff
  std::vector<std::string> regions;   // programme region ids (enterprise's, researcher's, token's)
  std::vector<std::string> fields;    // programme field ids (enterprise industry, researcher fields)
  std::vector<std::int64_t> units;    // researchers' units
  std::vector<std::string> statuses;  // people.status: onboarding, pending, verified, refused
  std::optional<std::string> stage;   // one of AudienceStages()
  std::vector<std::int64_t> people;   // only these people
  // "needs whose report is due in 10 days": empty unless `milestone` is at most this many days
  // away (and not past).
  std::optional<std::string> milestone;
  std::optional<int> due_within_days;
};

/// The stage names an audience may use, each with what it means (for errors and the API docs).
[[nodiscard]] const std::vector<std::pair<std::string, std::string>>& AudienceStages();

/// Parses a filter: unknown keys, roles, regions, fields, statuses or stages are refused by name.
/// A bureau reviewer's audience is held to its region (another region is refused).
[[nodiscard]] Result<Audience> ParseAudience(const nlohmann::json& doc, const Programme& programme, const Staff& staff);
[[nodiscard]] nlohmann::json ToJson(const Audience& a);

/// The audience as SQL over `people p`: `SELECT p.id FROM people p WHERE <where>` with `binds`
/// in order. `today` decides `due_within_days`.
struct AudienceSql {
  std::string where;
  std::vector<std::variant<std::int64_t, std::string>> binds;
};
[[nodiscard]] AudienceSql BuildAudienceSql(const Audience& a, const Programme& programme, Day today);
/// Binds `q.binds` to `s` from parameter `first` on.
void BindAudience(SQLite::Statement& s, const AudienceSql& q, int first = 1);

/// How many people the audience holds, and the first `sample` of them (name, role, region, the
/// channels they can be reached on, addresses masked).
[[nodiscard]] nlohmann::json PreviewAudience(store::Connection& c, const Audience& a, const Programme& programme,
                                             Day today, int sample);
[[nodiscard]] std::int64_t CountAudience(store::Connection& c, const Audience& a, const Programme& programme,
                                         Day today);

/// Saved audiences (by name), for reuse in broadcasts.
[[nodiscard]] Result<nlohmann::json> SaveAudience(store::Connection& c, const Staff& staff, const std::string& name,
                                                  const Audience& a, Clock::TimePoint now);
[[nodiscard]] nlohmann::json ListAudiences(store::Connection& c);
[[nodiscard]] std::optional<nlohmann::json> FindSavedAudience(store::Connection& c, std::int64_t id);

}  // namespace duijie::dialogs
