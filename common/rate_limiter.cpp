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

WindowLimiter::WindowLimiter(const std::vector<Limit>& limits) {
  for (const auto& l : limits) {
    if (l.count <= 0 || l.window <= Clock::Duration::zero()) continue;
    limits_.push_back(l);
    longest_ = std::max(longest_, l.window);
    keep_ = std::max(keep_, static_cast<std::size_t>(l.count));
  }
}

Clock::Duration WindowLimiter::TryTake(std::string_view key, Clock::TimePoint now) {
  if (limits_.empty()) return Clock::Duration::zero();
  if (++takes_since_prune_ >= 4096) Prune(now);
  auto& uses = seen_[std::string(key)];
  Clock::Duration wait = Clock::Duration::zero();
  for (const auto& l : limits_) {
    const auto count = static_cast<std::size_t>(l.count);
    if (uses.size() < count) continue;
    // Uses are in time order; the window is full if the count-th most recent is inside it.
    const auto oldest_counted = uses[uses.size() - count];
    if (oldest_counted + l.window > now) wait = std::max(wait, oldest_counted + l.window - now);
  }
  if (wait > Clock::Duration::zero()) return wait;
  uses.push_back(std::max(now, uses.empty() ? now : uses.back()));  // a clock stepping back keeps order
  while (uses.size() > keep_) uses.pop_front();
  return Clock::Duration::zero();
}

void WindowLimiter::Prune(Clock::TimePoint now) {
  takes_since_prune_ = 0;
  std::erase_if(seen_,
                [&](const auto& entry) { return entry.second.empty() || entry.second.back() + longest_ <= now; });
}

}  // namespace duijie
