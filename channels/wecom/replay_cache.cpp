#include "channels/wecom/replay_cache.hpp"

namespace duijie::channels::wecom {

void ReplayCache::Expire(Clock::TimePoint now) {
  while (!order_.empty() && (order_.front().first + window_ < now || order_.size() > max_entries_)) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

bool ReplayCache::Admit(std::string_view nonce, std::string_view signature) {
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  Expire(now);
  const auto it = seen_.find(std::string(nonce));
  if (it != seen_.end()) return it->second == signature;
  seen_.emplace(std::string(nonce), std::string(signature));
  order_.emplace_back(now, std::string(nonce));
  return true;
}

}  // namespace duijie::channels::wecom
