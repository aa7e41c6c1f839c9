#include "common/log.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace duijie {
namespace {

TEST(Logger, FormatsOneJsonObjectWithTimestampLevelAndMessageFirst) {
  test::FakeClock clock(FromUnixMillis(1'790'000'000'123));
  Logger log(clock, LogLevel::kInfo);
  const auto line = log.Format(LogLevel::kWarn, "hello", {{"n", 3}});
  EXPECT_EQ(line, R"({"ts":"2026-09-21T14:13:20.123Z","level":"warn","msg":"hello","n":3})");
}

TEST(Logger, MasksPhonesEmailsAndSecretsInEveryField) {
  test::FakeClock clock;
  Logger log(clock, LogLevel::kInfo);
  const auto line = log.Format(LogLevel::kInfo, "sms to 13812345678",
                               {{"to", "+8613812345678"},
                                {"nested", {{"email", "wang@example.com"}}},
                                {"access_token", "abc123"},
                                {"list", {"13900001111"}}});
  EXPECT_EQ(line.find("13812345678"), std::string::npos) << line;
  EXPECT_EQ(line.find("wang@"), std::string::npos) << line;
  EXPECT_EQ(line.find("abc123"), std::string::npos) << line;
  EXPECT_EQ(line.find("13900001111"), std::string::npos) << line;
  EXPECT_NE(line.find("[redacted]"), std::string::npos) << line;
}

TEST(Logger, InvalidUtf8DoesNotThrow) {
  test::FakeClock clock;
  Logger log(clock, LogLevel::kInfo);
  EXPECT_NO_THROW((void)log.Format(LogLevel::kInfo, "bad", {{"v", std::string("\xff\xfe")}}));
}

TEST(Logger, WritesOnlyEnabledLevelsOneLineEach) {
  test::FakeClock clock;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Logger log(clock, LogLevel::kWarn, fds[1]);
  log.Info("hidden");
  log.Warn("shown");
  log.Error("also shown");
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(ParseLogLevel, AcceptsKnownNamesOnly) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("debug", level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("verbose", level));
  EXPECT_EQ(level, LogLevel::kDebug);
}

}  // namespace
}  // namespace duijie
