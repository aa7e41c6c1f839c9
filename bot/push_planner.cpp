#include "bot/push_planner.hpp"

#include <array>

#include "dialogs/proposals.hpp"
#include "dialogs/pushes.hpp"
#include "store/matching.hpp"

namespace duijie::bot {
namespace {

constexpr std::int64_t kPlanWeekMillis = 7LL * 24 * 3600 * 1000;

}  // namespace

net::awaitable<PushPlanner::Done> PushPlanner::RunOnce() {
  Done done;
  if (!matches_.Ready()) co_return done;
  const int limit = options_.needs_per_round;
  const auto list = [limit](store::Connection& c) { return dialogs::NeedsToPush(c, limit); };
  const std::vector<std::int64_t> needs = co_await readers_.Run(list);
  for (const std::int64_t need_id : needs) {
    const auto now = clock_.Now();
    const std::int64_t now_ms = ToUnixMillis(now);
    const auto plan = [this, need_id, now_ms](store::Connection& c) {
      std::vector<dialogs::PushCandidate> out;
      const auto need = store::LoadNeed(c, need_id);
      if (!need) return out;
      const auto max = static_cast<std::size_t>(options_.policy.per_need_max);
      // More than the plan can take, so that leaving out the ineligible and those at capacity
      // still fills it.
      auto candidates = matches_.ResearchersFor(*need, 3 * max + 10);
      std::vector<std::int64_t> ids;
      ids.reserve(candidates.size());
      for (const auto& m : candidates) ids.push_back(m.id);
      const auto standings = store::LoadStandings(c, need->field, ids);
      const auto shortlist = dialogs::Shortlist(std::move(candidates), standings, programme_, 3 * max + 10);
      const auto recent = store::PushesSince(c, now_ms - kPlanWeekMillis);
      const auto chosen = dialogs::PlanPushes(shortlist, options_.policy, [&recent](std::int64_t id) {
        const auto it = recent.find(id);
        return it == recent.end() ? 0 : it->second;
      });
      for (const auto id : chosen) {
        for (const auto& m : shortlist) {
          if (m.id == id) out.push_back({m.id, m.score, m.terms, m.shared_field});
        }
      }
      return out;
    };
    const std::vector<dialogs::PushCandidate> chosen = co_await readers_.Run(plan);
    const auto write = [this, need_id, &chosen, now](store::Connection& c) {
      auto msgs = dialogs::CreatePushes(c, programme_, catalogue_, need_id, chosen, random_, now);
      const std::int64_t at = ToUnixMillis(now);
      for (const auto& m : msgs) store::OutboxRepository::Enqueue(c, m, at);
      return static_cast<int>(msgs.size());
    };
    done.pushes += co_await writer_.Run(write);
    ++done.needs;
  }
  const auto now = clock_.Now();
  const auto follow = [this, now](store::Connection& c) {
    auto f = dialogs::FollowUpPushes(c, catalogue_, now, options_.remind_after, options_.close_after);
    const auto digests = dialogs::ProposalDigests(c, catalogue_, now, options_.digest_after);
    const std::int64_t at = ToUnixMillis(now);
    for (const auto& m : f.reminders) store::OutboxRepository::Enqueue(c, m, at);
    for (const auto& m : digests) store::OutboxRepository::Enqueue(c, m, at);
    return std::array<int, 3>{static_cast<int>(f.reminders.size()), f.closed, static_cast<int>(digests.size())};
  };
  const auto counts = co_await writer_.Run(follow);
  done.reminders = counts[0];
  done.closed = counts[1];
  done.digests = counts[2];
  co_return done;
}

}  // namespace duijie::bot
