#include "common/clock.hpp"

#include <ctime>
#include <random>

namespace duijie {

Clock::TimePoint SystemClock::Now() const { return std::chrono::system_clock::now(); }

std::int64_t ToUnixMillis(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::TimePoint FromUnixMillis(std::int64_t ms) {
  return Clock::TimePoint{std::chrono::duration_cast<Clock::Duration>(std::chrono::milliseconds{ms})};
}

std::string FormatUtc(Clock::TimePoint t) {
  const std::int64_t ms = ToUnixMillis(t);
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const auto len = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(len), buf, static_cast<int>(ms % 1000));
  return out;
}

double SystemRandom::Uniform() {
  // One generator per thread: no lock on the hot path, and no shared state between tests.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(gen);
}

}  // namespace duijie
