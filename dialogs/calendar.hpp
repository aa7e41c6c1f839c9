#pragma once
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace duijie::dialogs {

using Day = std::chrono::sys_days;

/// "2026-02-14" → a date; nothing for anything else (including impossible dates).
[[nodiscard]] std::optional<Day> ParseIsoDate(std::string_view text);
[[nodiscard]] std::string FormatIsoDate(Day d);

/// The working days of mainland China (config/calendar/cn.json): Monday to Friday, minus public
/// holidays, plus the weekend days worked instead (调休上班). Deadlines and reminder ladders
/// count in these days, so "T-3 working days" before a deadline after the Spring Festival lands
/// before the holiday, not in it.
class WorkCalendar {
 public:
  /// The calendar compiled in from config/calendar/cn.json.
  static const WorkCalendar& Embedded();
  /// Parses and checks a calendar file; every problem is named.
  static Result<WorkCalendar> FromJson(const nlohmann::json& doc);

  [[nodiscard]] bool IsWorkingDay(Day d) const;
  /// Whether the yearly table has `year` (outside it the calendar is Monday to Friday).
  [[nodiscard]] bool Covers(int year) const { return years_.contains(year); }
  /// The working day `n` working days after `d` (before it for negative `n`). From a day off,
  /// -1 is the last working day before it and +1 the first after it.
  [[nodiscard]] Day AddWorkingDays(Day d, int n) const;
  /// The local date (China Standard Time unless the file says otherwise) at `t`.
  [[nodiscard]] Day LocalDate(Clock::TimePoint t) const;
  /// The instant local midnight begins on `d`.
  [[nodiscard]] Clock::TimePoint StartOf(Day d) const;

 private:
  std::set<Day> holidays_;
  std::set<Day> workdays_;
  std::set<int> years_;
  std::chrono::minutes offset_{480};
};

}  // namespace duijie::dialogs
