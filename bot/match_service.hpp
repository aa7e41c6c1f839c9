#pragma once
#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "matcher/matcher.hpp"
#include "store/connection.hpp"

namespace duijie::bot {

/// The gateway's matcher: built from the store at startup, then kept current by Refresh() —
/// every researcher and need whose updated_at moved is indexed again (registration, edit,
/// publication, refusal, a need leaving the open stages). Queries share a lock, refreshes take it
/// alone for the moment they apply what they read.
class MatchService {
 public:
  MatchService(matcher::AnalyzerOptions analyzer, matcher::MatcherOptions options = {});

  struct Refreshed {
    std::size_t upserts = 0;
    std::size_t removals = 0;
  };
  /// Reads the changes since the last call (everything on the first) and applies them.
  Refreshed Refresh(store::Connection& conn);
  /// True once the first Refresh() has completed.
  [[nodiscard]] bool Ready() const { return ready_.load(std::memory_order_acquire); }

  [[nodiscard]] std::vector<matcher::Match> ResearchersFor(const matcher::Need& need, std::size_t k,
                                                           const matcher::Allow& allow = {}) const;
  [[nodiscard]] std::vector<matcher::Match> NeedsFor(const matcher::Researcher& researcher, std::size_t k) const;
  [[nodiscard]] std::size_t ResearcherCount() const;
  [[nodiscard]] std::size_t NeedCount() const;

 private:
  mutable std::shared_mutex mutex_;
  matcher::Matcher matcher_;
  std::mutex refresh_mutex_;  // one refresh at a time, so the cursor only moves forward
  std::int64_t cursor_ = 0;
  std::atomic<bool> ready_{false};
};

}  // namespace duijie::bot
