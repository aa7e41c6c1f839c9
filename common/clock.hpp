#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace duijie {

/// Wall-clock time source. Injected everywhere so that tests run on a fake clock and never sleep.
class Clock {
 public:
  using Duration = std::chrono::system_clock::duration;
  using TimePoint = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint Now() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint Now() const override;
};

/// Milliseconds since the Unix epoch: the unit every timestamp in the store uses.
[[nodiscard]] std::int64_t ToUnixMillis(Clock::TimePoint t);
[[nodiscard]] Clock::TimePoint FromUnixMillis(std::int64_t ms);
/// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T14:37:08.123Z".
[[nodiscard]] std::string FormatUtc(Clock::TimePoint t);

/// Randomness source, injected for the same reason as Clock.
class Random {
 public:
  virtual ~Random() = default;
  /// Uniform in [0, 1).
  [[nodiscard]] virtual double Uniform() = 0;
};

/// A thread-safe pseudo-random generator seeded from the operating system.
class SystemRandom final : public Random {
 public:
  [[nodiscard]] double Uniform() override;
};

}  // namespace duijie
