#pragma once
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/rate_limiter.hpp"

namespace duijie::bot {

/// A token bucket per source address for the public webhook routes (WeCom, SMS, mail): one
/// misbehaving or hostile source is answered 429 instead of taking the gateway's writer from
/// everyone else. Thread-safe (the I/O threads share it). At most `max_sources` addresses are
/// remembered; when full, the buckets that have refilled are forgotten first.
class SourceLimit {
 public:
  SourceLimit(std::vector<std::string> path_prefixes, double rate_per_second, double burst, const Clock& clock,
              std::size_t max_sources = 100'000);

  /// Whether `path` is one of the limited routes.
  [[nodiscard]] bool Covers(std::string_view path) const;
  /// Takes one request of `source`: zero if admitted, else how long until the next would be.
  [[nodiscard]] Clock::Duration Take(const std::string& source);

 private:
  std::vector<std::string> prefixes_;
  double rate_;
  double burst_;
  const Clock& clock_;
  std::size_t max_sources_;
  std::mutex mutex_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

}  // namespace duijie::bot
