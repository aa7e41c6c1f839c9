#include "bot/match_service.hpp"

#include <mutex>

#include "store/matching.hpp"

namespace duijie::bot {

MatchService::MatchService(matcher::AnalyzerOptions analyzer, matcher::MatcherOptions options)
    : matcher_(matcher::Analyzer(std::move(analyzer)), std::move(options)) {}

MatchService::Refreshed MatchService::Refresh(store::Connection& conn) {
  const std::lock_guard one_at_a_time(refresh_mutex_);
  // Read without the lock: queries go on while the store is read.
  const store::MatchingChanges changes = store::LoadMatchingChanges(conn, cursor_);
  Refreshed done;
  {
    const std::unique_lock lock(mutex_);
    for (const auto& r : changes.researchers) matcher_.Upsert(r);
    for (const auto id : changes.removed_researchers) matcher_.RemoveResearcher(id);
    for (const auto& n : changes.needs) matcher_.Upsert(n);
    for (const auto id : changes.removed_needs) matcher_.RemoveNeed(id);
  }
  done.upserts = changes.researchers.size() + changes.needs.size();
  done.removals = changes.removed_researchers.size() + changes.removed_needs.size();
  // Rows stamped in the same millisecond as the newest may still be committing: read from that
  // millisecond again next time (indexing a profile twice is harmless).
  cursor_ = changes.newest;
  ready_.store(true, std::memory_order_release);
  return done;
}

std::vector<matcher::Match> MatchService::ResearchersFor(const matcher::Need& need, std::size_t k,
                                                         const matcher::Allow& allow) const {
  const std::shared_lock lock(mutex_);
  return matcher_.ResearchersFor(need, k, allow);
}

std::vector<matcher::Match> MatchService::NeedsFor(const matcher::Researcher& researcher, std::size_t k) const {
  const std::shared_lock lock(mutex_);
  return matcher_.NeedsFor(researcher, k);
}

std::size_t MatchService::ResearcherCount() const {
  const std::shared_lock lock(mutex_);
  return matcher_.ResearcherCount();
}

std::size_t MatchService::NeedCount() const {
  const std::shared_lock lock(mutex_);
  return matcher_.NeedCount();
}

}  // namespace duijie::bot
