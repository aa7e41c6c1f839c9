#include "common/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace duijie {

std::chrono::milliseconds RetryDelay(int attempt, const BackoffPolicy& policy, Random& random) {
  const int exponent = std::clamp(attempt - 1, 0, 40);  // 2^40 ms is far past any cap
  const double raw = static_cast<double>(policy.base.count()) * std::ldexp(1.0, exponent);
  const double ceiling = std::min(raw, static_cast<double>(policy.cap.count()));
  const double delay = ceiling / 2.0 + random.Uniform() * ceiling / 2.0;
  return std::chrono::milliseconds{static_cast<std::int64_t>(delay)};
}

}  // namespace duijie
