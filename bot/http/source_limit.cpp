#include "bot/http/source_limit.hpp"

#include <algorithm>

namespace duijie::bot {

SourceLimit::SourceLimit(std::vector<std::string> path_prefixes, double rate_per_second, double burst,
                         const Clock& clock, std::size_t max_sources)
    : prefixes_(std::move(path_prefixes)),
      rate_(rate_per_second),
      burst_(burst),
      clock_(clock),
      max_sources_(std::max<std::size_t>(max_sources, 1)) {}

bool SourceLimit::Covers(std::string_view path) const {
  if (rate_ <= 0) return false;
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [path](const std::string& p) { return path.substr(0, p.size()) == p; });
}

Clock::Duration SourceLimit::Take(const std::string& source) {
  const auto now = clock_.Now();
  const std::lock_guard lock(mutex_);
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) {
      // A full bucket holds nothing a new one would not: forgetting it changes no answer.
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        b = b->second.Available(now) >= static_cast<long>(burst_) ? buckets_.erase(b) : std::next(b);
      }
      if (buckets_.size() >= max_sources_) buckets_.clear();  // a flood of sources: start over
    }
    it = buckets_.emplace(source, TokenBucket(rate_, burst_, now)).first;
  }
  return it->second.TryTake(now);
}

}  // namespace duijie::bot
