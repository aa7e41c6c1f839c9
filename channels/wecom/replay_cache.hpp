#pragma once
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"

namespace duijie::channels::wecom {

/// Remembers recent (nonce -> signature) pairs for the timestamp window. WeCom redelivers a
/// callback with the same query string, so the same nonce with the same signature is a
/// redelivery (answered from the inbox); the same nonce with another signature is a replay of a
/// captured nonce on a new payload and is refused. Thread-safe; bounded in size.
class ReplayCache {
 public:
  ReplayCache(const Clock& clock, Clock::Duration window, std::size_t max_entries = 100'000)
      : clock_(clock), window_(window), max_entries_(max_entries) {}

  /// False when `nonce` was seen within the window with a different signature.
  [[nodiscard]] bool Admit(std::string_view nonce, std::string_view signature);

 private:
  void Expire(Clock::TimePoint now);

  const Clock& clock_;
  Clock::Duration window_;
  std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> seen_;
  std::deque<std::pair<Clock::TimePoint, std::string>> order_;
};

}  // namespace duijie::channels::wecom
