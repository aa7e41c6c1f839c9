#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dialogs/programme.hpp"
#include "dialogs/staff.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// One line of the need list (需求清单), with the programme's names for its ids.
struct NeedListRow {
  std::int64_t id = 0;
  std::string title;
  std::string enterprise;
  std::string region;    // name
  std::string industry;  // the need's field, by name (the enterprise's when the need has none)
  std::string category;  // name
  std::optional<double> amount_wan;
  std::string deadline;
  std::string stage;
  std::string problem;
  std::string targets;
};

/// The need list by industry: needs at `stages` (default: published and everything after it,
/// withdrawn and expired left out) that the staff member may see, ordered by industry then id.
[[nodiscard]] std::vector<NeedListRow> NeedList(store::Connection& c, const Programme& programme, const Staff& staff,
                                                const std::vector<std::string>& stages = {});

/// The programme in numbers for staff (a bureau reviewer: its region): needs per stage, per
/// region and per field; for each step of the lifecycle how many of the needs that reached one
/// stage reached the next (conversion) and the median time it took, read from `transitions`;
/// pushes by status; people by role and status.
[[nodiscard]] nlohmann::json Funnel(store::Connection& c, const Programme& programme, const Staff& staff);

}  // namespace duijie::dialogs
