#pragma once
#include <chrono>

#include "bot/match_service.hpp"
#include "common/asio.hpp"
#include "common/clock.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/push_plan.hpp"
#include "store/readers.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

struct PushPlannerOptions {
  dialogs::PushPolicy policy;
  std::chrono::hours remind_after{48};
  std::chrono::hours close_after{96};
  std::chrono::minutes digest_after{10};
  int needs_per_round = 20;
};

/// Sends the pushes of newly published needs, follows up the unanswered ones and tells the
/// enterprises of new proposals (in digests). Run after each
/// matcher refresh (so a need published a moment ago is planned against a current pool): the
/// matcher ranks on a reader, the plan (shortlist, weekly cap) is made there too, and the pushes
/// with their messages are written in one transaction per need — a need is planned once even if
/// two rounds overlap or the process dies between them.
class PushPlanner {
 public:
  PushPlanner(store::Writer& writer, store::Readers& readers, const MatchService& matches,
              const dialogs::Programme& programme, const dialogs::Catalogue& catalogue, const Clock& clock,
              Random& random, PushPlannerOptions options)
      : writer_(writer),
        readers_(readers),
        matches_(matches),
        programme_(programme),
        catalogue_(catalogue),
        clock_(clock),
        random_(random),
        options_(options) {}

  struct Done {
    int needs = 0;
    int pushes = 0;
    int reminders = 0;
    int closed = 0;
    int digests = 0;
    [[nodiscard]] bool Queued() const { return pushes + reminders + digests > 0; }
  };
  net::awaitable<Done> RunOnce();

 private:
  store::Writer& writer_;
  store::Readers& readers_;
  const MatchService& matches_;
  const dialogs::Programme& programme_;
  const dialogs::Catalogue& catalogue_;
  const Clock& clock_;
  Random& random_;
  PushPlannerOptions options_;
};

}  // namespace duijie::bot
