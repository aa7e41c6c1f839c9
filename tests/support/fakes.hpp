#pragma once
#include <chrono>
#include <vector>

#include "common/clock.hpp"

namespace duijie::test {

/// Where the fake clock starts (2026-09-21), and the "now" of tests that pass times by hand.
inline constexpr std::int64_t kFakeEpochMillis = 1'790'000'000'000;

/// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = FromUnixMillis(kFakeEpochMillis)) : now_(start) {}
  [[nodiscard]] TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

/// Returns the scripted values in turn, then repeats the last; 0.5 when none is scripted.
class FakeRandom final : public Random {
 public:
  FakeRandom() = default;
  explicit FakeRandom(std::vector<double> values) : values_(std::move(values)) {}
  [[nodiscard]] double Uniform() override {
    if (values_.empty()) return 0.5;
    const double v = values_[std::min(next_, values_.size() - 1)];
    ++next_;
    return v;
  }

 private:
  std::vector<double> values_;
  std::size_t next_ = 0;
};

}  // namespace duijie::test
