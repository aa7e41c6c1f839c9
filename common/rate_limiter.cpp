#include "common/rate_limiter.hpp"

#include <algorithm>
#include <chrono>

namespace duijie {

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock::TimePoint now)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void TokenBucket::Refill(Clock::TimePoint now) {
  if (now <= last_) return;  // a clock that steps back must not mint tokens
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

long TokenBucket::Available(Clock::TimePoint now) {
  if (rate_ <= 0) return 1L << 30;
  Refill(now);
  return static_cast<long>(tokens_);
}

Clock::Duration TokenBucket::TryTake(Clock::TimePoint now) {
  const auto wait = WaitForOne(now);
  if (wait == Clock::Duration::zero() && rate_ > 0) tokens_ -= 1.0;
  return wait;
}

Clock::Duration TokenBucket::WaitForOne(Clock::TimePoint now) {
  if (rate_ <= 0) return Clock::Duration::zero();
  Refill(now);
  if (tokens_ >= 1.0) return Clock::Duration::zero();
  const double wait_s = (1.0 - tokens_) / rate_;
  const auto wait = std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(wait_s));
  return std::max(wait, Clock::Duration{1});
}

}  // namespace duijie
