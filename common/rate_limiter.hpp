#pragma once
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"

namespace duijie {

/// Token bucket: `rate` tokens a second, at most `burst` saved up. Not thread-safe: each owner
/// (e.g. the dispatcher, one bucket per channel) uses it from one strand.
class TokenBucket {
 public:
  /// rate <= 0 means unlimited.
  TokenBucket(double rate_per_second, double burst, Clock::TimePoint now);

  /// Takes one token if there is one and returns zero; otherwise returns how long until one is due
  /// (and takes nothing).
  [[nodiscard]] Clock::Duration TryTake(Clock::TimePoint now);

  /// Whole tokens available now (a large number when unlimited); takes nothing.
  [[nodiscard]] long Available(Clock::TimePoint now);
  /// How long until one token is available (zero if one is).
  [[nodiscard]] Clock::Duration WaitForOne(Clock::TimePoint now);

 private:
  void Refill(Clock::TimePoint now);

  double rate_;
  double burst_;
  double tokens_;
  Clock::TimePoint last_;
};

/// Per-key sliding-window limits, e.g. WeCom's "30 a minute and 1000 an hour per member" or a
/// group robot's 20 a minute: exact (a window never holds more than its count), unlike a token
/// bucket whose burst plus refill would let 2× through in one window. Keys that went quiet for
/// the longest window are forgotten. Not thread-safe.
class WindowLimiter {
 public:
  struct Limit {
    int count = 0;
    Clock::Duration window{};
  };
  /// Limits with a count <= 0 are ignored; no limits means unlimited.
  explicit WindowLimiter(const std::vector<Limit>& limits);

  /// Records one use of `key` and returns zero if every window has room; otherwise records
  /// nothing and returns how long until one has.
  [[nodiscard]] Clock::Duration TryTake(std::string_view key, Clock::TimePoint now);
  [[nodiscard]] bool Unlimited() const { return limits_.empty(); }
  [[nodiscard]] std::size_t Keys() const { return seen_.size(); }

 private:
  void Prune(Clock::TimePoint now);

  std::vector<Limit> limits_;
  Clock::Duration longest_{};
  std::size_t keep_ = 0;  // the largest count: older uses never matter
  std::unordered_map<std::string, std::deque<Clock::TimePoint>> seen_;
  std::size_t takes_since_prune_ = 0;
};

}  // namespace duijie
