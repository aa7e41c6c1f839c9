#pragma once
#include <optional>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "dialogs/broadcasts.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

struct BroadcastRunnerOptions {
  dialogs::BroadcastPolicy policy;
  int plan_batch = 2'000;
  bool milestones = true;
};

/// The broadcast worker: starts due broadcasts, plans their recipients in batches (one write
/// transaction each, so other writes interleave during a large one), moves people who did not
/// acknowledge to their next channel, finishes broadcasts, and turns the programme's milestones
/// into reminder ladders. Every step is a dialogs function on the writer; this only repeats them.
class BroadcastRunner {
 public:
  BroadcastRunner(store::Writer& writer, const dialogs::Programme& programme, const dialogs::Catalogue& catalogue,
                  const dialogs::WorkCalendar& calendar, const Clock& clock, BroadcastRunnerOptions options)
      : writer_(writer),
        programme_(programme),
        catalogue_(catalogue),
        calendar_(calendar),
        clock_(clock),
        options_(std::move(options)) {}

  struct Done {
    dialogs::BroadcastRound broadcasts;
    int reminders = 0;
    int escalations = 0;
    int stage_digests = 0;
    [[nodiscard]] bool Queued() const { return broadcasts.Queued(); }
  };
  /// One pass: milestones, then broadcast rounds until no planning is left.
  net::awaitable<Done> RunOnce();

 private:
  store::Writer& writer_;
  const dialogs::Programme& programme_;
  const dialogs::Catalogue& catalogue_;
  const dialogs::WorkCalendar& calendar_;
  const Clock& clock_;
  BroadcastRunnerOptions options_;
  // Milestones move in days: they are looked at once a minute, not on every tick.
  std::optional<Clock::TimePoint> milestones_checked_;
};

}  // namespace duijie::bot
