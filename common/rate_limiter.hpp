#pragma once
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

}  // namespace duijie
