#include "bot/broadcast_runner.hpp"

#include "dialogs/milestones.hpp"

namespace duijie::bot {

net::awaitable<BroadcastRunner::Done> BroadcastRunner::RunOnce() {
  Done done;
  if (options_.milestones && (!milestones_checked_ || clock_.Now() - *milestones_checked_ >= std::chrono::minutes(1))) {
    const auto now = clock_.Now();
    milestones_checked_ = now;
    const auto ladders = [this, now](store::Connection& c) {
      return dialogs::RunMilestones(c, programme_, catalogue_, calendar_, now);
    };
    const auto m = co_await writer_.Run(ladders);
    done.reminders = m.reminders;
    done.escalations = m.escalations;
    done.stage_digests = m.stage_digests;
  }
  for (bool more = true; more;) {
    const auto now = clock_.Now();
    const auto round = [this, now](store::Connection& c) {
      return dialogs::RunBroadcasts(c, programme_, catalogue_, options_.policy, now, options_.plan_batch);
    };
    const auto r = co_await writer_.Run(round);
    done.broadcasts.started += r.started;
    done.broadcasts.planned += r.planned;
    done.broadcasts.skipped += r.skipped;
    done.broadcasts.escalated += r.escalated;
    done.broadcasts.finished += r.finished;
    more = r.more;
  }
  co_return done;
}

}  // namespace duijie::bot
