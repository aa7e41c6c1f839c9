#pragma once
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "dialogs/broadcasts.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// Reminders the programme's milestones call for (DESIGN.md §2: milestones drive reminders), in
/// the caller's transaction. For each milestone with an audience:
/// - on each rung of its ladder (T-7, T-3, T-1 working days by default, on `calendar`), a
///   reminder broadcast to its audience as it is that day — exactly the people who still owe
///   the step — asking for an acknowledgement, sent at 09:00 local time;
/// - on the first working day after the date, one escalation to the bureau staff of the
///   regions and the administrators of the units whose people still owe it, with their counts.
/// - on each working day, one digest to the staff (platform staff: all; a bureau: its region) of
///   the needs that stayed in a stage longer than the programme's `stage_limits_days`, counted
///   by stage;
/// Each broadcast has an idempotency key (milestone, rung), so running this any number of times
/// a day creates it once; a rung missed (the gateway was down) is not sent late if a later one
/// is due, and nothing is sent for a date long past.
struct MilestoneRound {
  int reminders = 0;
  int escalations = 0;
  int stage_digests = 0;
};
[[nodiscard]] MilestoneRound RunMilestones(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                                           const WorkCalendar& calendar, Clock::TimePoint now);

}  // namespace duijie::dialogs
