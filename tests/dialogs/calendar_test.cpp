// The working-day calendar across the Spring Festival and National Day, with the weekend days
// worked instead (调休上班), and the checks on the yearly table.
#include "dialogs/calendar.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

using nlohmann::json;

Day D(const char* iso) { return *ParseIsoDate(iso); }

TEST(WorkCalendar, SpringFestivalAndItsWeekendWorkdays) {
  const auto& cal = WorkCalendar::Embedded();
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-02-14"))) << "Saturday worked before the holiday";
  for (const char* d : {"2026-02-15", "2026-02-16", "2026-02-20", "2026-02-23"}) {
    EXPECT_FALSE(cal.IsWorkingDay(D(d))) << d;
  }
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-02-24")));
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-02-28"))) << "Saturday worked after it";
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-02-21"))) << "an ordinary Saturday inside the holiday";
  // Three working days before Wednesday 2026-02-25: Tue 24, the worked Saturday 14, Fri 13.
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2026-02-25"), -1)), "2026-02-24");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2026-02-25"), -2)), "2026-02-14");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2026-02-25"), -3)), "2026-02-13");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2026-02-13"), 1)), "2026-02-14");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2026-02-14"), 1)), "2026-02-24");
}

TEST(WorkCalendar, HubeiContractDeadlineLadderAcrossTheSpringFestivalOf2021) {
  const auto& cal = WorkCalendar::Embedded();
  // 2021-02-28 is a Sunday; the holiday ran 02-11..17 and Saturday 02-20 was worked.
  const Day due = D("2021-02-28");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(due, -1)), "2021-02-26");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(due, -3)), "2021-02-24");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(due, -6)), "2021-02-20");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(due, -7)), "2021-02-19");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2021-02-19"), -2)), "2021-02-10") << "02-11..17 are off, 02-07 worked";
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2021-02-10"), -3)), "2021-02-07");
}

TEST(WorkCalendar, NationalDay) {
  const auto& cal = WorkCalendar::Embedded();
  // 2020: 10-01..08 off (with the Mid-Autumn Festival), Sunday 09-27 and Saturday 10-10 worked.
  EXPECT_FALSE(cal.IsWorkingDay(D("2020-10-08")));
  EXPECT_TRUE(cal.IsWorkingDay(D("2020-09-27")));
  EXPECT_TRUE(cal.IsWorkingDay(D("2020-10-10")));
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2020-10-12"), -2)), "2020-10-09");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2020-09-30"), -3)), "2020-09-27");
  EXPECT_EQ(FormatIsoDate(cal.AddWorkingDays(D("2020-09-30"), 1)), "2020-10-09");
  // 2026: 10-01..07 off, 09-20 and 10-10 worked.
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-09-20")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-10-07")));
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-10-08")));
  // 元旦 2023 began on 2022-12-31, a Saturday listed under 2023.
  EXPECT_FALSE(cal.IsWorkingDay(D("2023-01-02")));
}

TEST(WorkCalendar, YearsWithoutATableAreMondayToFriday) {
  const auto& cal = WorkCalendar::Embedded();
  EXPECT_FALSE(cal.Covers(2031));
  EXPECT_TRUE(cal.Covers(2026));
  EXPECT_TRUE(cal.IsWorkingDay(D("2031-10-01")));  // a Wednesday: no table, so a working day
  EXPECT_FALSE(cal.IsWorkingDay(D("2031-10-04")));
}

TEST(WorkCalendar, LocalDateIsChinaStandardTime) {
  const auto& cal = WorkCalendar::Embedded();
  // 2026-02-13T17:00:00Z is 01:00 on the 14th in Beijing.
  EXPECT_EQ(FormatIsoDate(cal.LocalDate(FromUnixMillis(1'771'002'000'000))), "2026-02-14");
  EXPECT_EQ(ToUnixMillis(cal.StartOf(D("2026-02-14"))), 1'770'998'400'000);
}

TEST(WorkCalendar, BadTablesAreRefusedByName) {
  const auto check = [](const json& doc, const std::string& expected) {
    const auto cal = WorkCalendar::FromJson(doc);
    ASSERT_FALSE(cal) << doc.dump();
    EXPECT_NE(cal.error().message.find(expected), std::string::npos) << cal.error().message;
  };
  check(json::object(), "'years'");
  check(json::parse(R"({"years": {"2026": {"holidays": [["2026-02-15"]]}}})"), "holidays");
  check(json::parse(R"({"years": {"2026": {"holidays": [], "workdays": ["2026-02-16"]}}})"), "not a weekend day");
  check(json::parse(R"({"years": {"2026": {"holidays": [["2026-02-30", "2026-03-01"]]}}})"), "real dates");
  check(json::parse(R"({"years": {"26": {"holidays": []}}})"), "not a year");
  check(json::parse(R"({"years": {"2026": {"holidays": [["2026-02-14", "2026-02-15"]], "workdays": ["2026-02-14"]}}})"),
        "both a holiday and a working day");
}

TEST(WorkCalendar, ParsesOnlyRealIsoDates) {
  EXPECT_TRUE(ParseIsoDate("2024-02-29"));
  EXPECT_FALSE(ParseIsoDate("2025-02-29"));
  EXPECT_FALSE(ParseIsoDate("2025-2-9"));
  EXPECT_FALSE(ParseIsoDate("2025/02/09"));
  EXPECT_EQ(FormatIsoDate(D("2025-02-09")), "2025-02-09");
}

}  // namespace
}  // namespace duijie::dialogs
