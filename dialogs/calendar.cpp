#include "dialogs/calendar.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "dialogs/calendar_embedded.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

Error InvalidCalendar(const std::string& what) { return {Errc::kInvalidArgument, "calendar: " + what}; }

}  // namespace

std::optional<Day> ParseIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto number = [&text](std::size_t at, std::size_t len) -> std::optional<int> {
    int v = 0;
    const auto* first = text.data() + at;
    const auto [ptr, ec] = std::from_chars(first, first + len, v);
    if (ec != std::errc{} || ptr != first + len) return std::nullopt;
    return v;
  };
  const auto y = number(0, 4);
  const auto m = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*m)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return Day{ymd};
}

std::string FormatIsoDate(Day d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

Result<WorkCalendar> WorkCalendar::FromJson(const json& doc) {
  WorkCalendar cal;
  if (!doc.is_object() || !doc.contains("years") || !doc["years"].is_object()) {
    return InvalidCalendar("expected an object with 'years'");
  }
  if (doc.contains("timezone_offset_minutes")) {
    if (!doc["timezone_offset_minutes"].is_number_integer())
      return InvalidCalendar("timezone_offset_minutes: a number");
    cal.offset_ = std::chrono::minutes(doc["timezone_offset_minutes"].get<int>());
  }
  for (const auto& [year_text, entry] : doc["years"].items()) {
    int year = 0;
    const auto [ptr, ec] = std::from_chars(year_text.data(), year_text.data() + year_text.size(), year);
    if (ec != std::errc{} || ptr != year_text.data() + year_text.size() || year < 2000 || year > 2100) {
      return InvalidCalendar("years: '" + year_text + "' is not a year");
    }
    const auto in_year = [year](Day d) { return static_cast<int>(std::chrono::year_month_day{d}.year()) == year; };
    if (!entry.is_object() || !entry.contains("holidays") || !entry["holidays"].is_array()) {
      return InvalidCalendar(year_text + ": needs a 'holidays' list of [first, last] date pairs");
    }
    for (const auto& range : entry["holidays"]) {
      if (!range.is_array() || range.size() != 2 || !range[0].is_string() || !range[1].is_string()) {
        return InvalidCalendar(year_text + ": holidays: each entry is [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
      }
      const auto first = ParseIsoDate(range[0].get<std::string>());
      const auto last = ParseIsoDate(range[1].get<std::string>());
      if (!first || !last || *last < *first || *last - *first > std::chrono::days(14)) {
        return InvalidCalendar(year_text + ": holidays: " + range.dump() +
                               " is not a range of real dates of at most 15 days");
      }
      // A range may start in the year before (元旦 2023 began on 2022-12-31).
      if (!in_year(*last)) return InvalidCalendar(year_text + ": holidays: " + range.dump() + " ends in another year");
      for (Day d = *first; d <= *last; d += std::chrono::days(1)) cal.holidays_.insert(d);
    }
    if (entry.contains("workdays")) {
      if (!entry["workdays"].is_array()) return InvalidCalendar(year_text + ": workdays: a list of dates");
      for (const auto& w : entry["workdays"]) {
        const auto d = w.is_string() ? ParseIsoDate(w.get<std::string>()) : std::nullopt;
        if (!d || !in_year(*d))
          return InvalidCalendar(year_text + ": workdays: " + w.dump() + " is not a date of that year");
        const std::chrono::weekday wd{*d};
        if (wd != std::chrono::Saturday && wd != std::chrono::Sunday) {
          return InvalidCalendar(year_text + ": workdays: " + w.dump() + " is not a weekend day");
        }
        cal.workdays_.insert(*d);
      }
    }
    cal.years_.insert(year);
  }
  for (const auto& d : cal.workdays_) {
    if (cal.holidays_.contains(d)) return InvalidCalendar(FormatIsoDate(d) + " is both a holiday and a working day");
  }
  return cal;
}

const WorkCalendar& WorkCalendar::Embedded() {
  static const WorkCalendar kCalendar = [] {
    auto cal = FromJson(json::parse(EmbeddedCalendarFile()));
    // The file is checked by a unit test; a broken one here is a build defect.
    if (!cal) throw std::logic_error(cal.error().message);
    return std::move(*cal);
  }();
  return kCalendar;
}

bool WorkCalendar::IsWorkingDay(Day d) const {
  if (workdays_.contains(d)) return true;
  if (holidays_.contains(d)) return false;
  const std::chrono::weekday wd{d};
  return wd != std::chrono::Saturday && wd != std::chrono::Sunday;
}

Day WorkCalendar::AddWorkingDays(Day d, int n) const {
  const std::chrono::days step(n < 0 ? -1 : 1);
  for (int left = n < 0 ? -n : n; left > 0;) {
    d += step;
    if (IsWorkingDay(d)) --left;
  }
  return d;
}

Day WorkCalendar::LocalDate(Clock::TimePoint t) const {
  return std::chrono::floor<std::chrono::days>(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(t + offset_));
}

Clock::TimePoint WorkCalendar::StartOf(Day d) const {
  return std::chrono::time_point_cast<Clock::Duration>(std::chrono::sys_time<std::chrono::minutes>(d) - offset_);
}

}  // namespace duijie::dialogs
