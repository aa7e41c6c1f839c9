#pragma once
#include <chrono>

#include "common/clock.hpp"

namespace duijie {

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{std::chrono::minutes{30}};
};

/// Delay before retry number `attempt` (1 = first retry): exponential growth capped at `cap`,
/// with "equal jitter" (half fixed, half random) so retries of many messages that failed
/// together spread out but never collapse to zero.
[[nodiscard]] std::chrono::milliseconds RetryDelay(int attempt, const BackoffPolicy& policy, Random& random);

}  // namespace duijie
