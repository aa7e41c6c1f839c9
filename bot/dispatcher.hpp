#pragma once
#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "bot/metrics.hpp"
#include "channels/sender.hpp"
#include "common/backoff.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/rate_limiter.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

struct DispatcherOptions {
  std::string instance;  // unique per process run; claims carry it
  int batch = 64;
  int concurrency = 64;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds unknown_recheck{60'000};
  std::chrono::milliseconds claim_stale{300'000};
  std::chrono::milliseconds unknown_give_up{86'400'000};  // then dead-lettered, never resent
  BackoffPolicy backoff;
  struct Rate {
    double per_second = 0;
    double burst = 1;
  };
  std::map<std::string, Rate> rates;  // by channel
  /// Limits per recipient, by channel (WeCom: 30 a minute and 1000 an hour per member; a group
  /// robot: 20 a minute). A message over a limit is handed back unsent until the window has room.
  std::map<std::string, std::vector<WindowLimiter::Limit>> recipient_limits;
  /// A channel's own rules, asked in the claim transaction on the writer thread (SMS: opt-out,
  /// quiet hours, per-number caps). A deferred message goes back unsent; a refused one fails
  /// with the reason and its fallback is queued.
  using Gate = std::function<channels::GateDecision(store::Connection&, const store::OutboxMessage&, std::int64_t)>;
  std::map<std::string, Gate> gates;
  /// What a message about to be sent may carry along, in the claim transaction (SMS: other
  /// pushes waiting for the same number go in one message). It may rewrite the message (payload,
  /// in the store too) and merge waiting ones into it. On such a channel, a claim holding several
  /// messages for one recipient sends the first and hands the others back due at once, so they
  /// can be carried or claimed in the next round.
  using Coalesce = std::function<void(store::Connection&, store::OutboxMessage&, std::int64_t)>;
  std::map<std::string, Coalesce> coalesce;
  /// What a channel records when one of its messages fails for good, in the transaction that
  /// records the failure (email: a 550 for the recipient suppresses the address).
  using AfterFailure =
      std::function<void(store::Connection&, const store::OutboxMessage&, const store::AttemptRecord&, std::int64_t)>;
  std::map<std::string, AfterFailure> after_failure;
};

/// The outbox dispatcher (DESIGN.md "path of a message"): claims due messages, hands each to its
/// channel's sender, records every attempt, retries retryable failures with exponential backoff
/// and jitter, dead-letters exhausted ones, honours a token bucket per channel and sliding-window
/// limits per recipient, and re-examines
/// messages whose outcome was never recorded (a crash mid-send) with the sender's Lookup
/// instead of sending them again.
class Dispatcher {
 public:
  /// `senders` maps a channel name to its sender; messages for other channels wait.
  Dispatcher(const net::any_io_executor& executor, store::Writer& writer,
             std::map<std::string, channels::Sender*> senders, const Clock& clock, Random& random, Metrics* metrics,
             const Logger& log, DispatcherOptions options);

  /// Starts the loop on the dispatcher's strand.
  void Start();
  /// New messages were queued: run a round now. Thread-safe.
  void Notify();
  /// Stops claiming and waits until every send in flight has its outcome recorded.
  net::awaitable<void> Stop();

  /// One round: examine in-doubt messages (at start and every unknown_recheck), claim what the
  /// rate limits and the concurrency allow, start those sends. Returns when the next round is due
  /// at the latest. Runs on the dispatcher's strand. Exposed for tests on a fake clock.
  net::awaitable<Clock::TimePoint> Round();
  /// Waits until no send is in flight. Exposed for tests.
  net::awaitable<void> Drain();

  [[nodiscard]] net::strand<net::any_io_executor>& Strand() { return strand_; }

 private:
  net::awaitable<void> Loop();
  net::awaitable<void> Recover(std::int64_t now_ms);
  net::awaitable<void> SendOne(store::OutboxMessage msg, channels::Sender& sender);
  // A send's outcome, waiting to be recorded with the others that finished meanwhile.
  struct Outcome {
    store::OutboxMessage msg;
    store::AttemptRecord record;
    std::int64_t now_ms = 0;
    std::int64_t retry_at = 0;
  };
  // What a batch's recording said, message by message.
  struct Finished {
    bool recorded = false;
    std::optional<std::int64_t> fallback;
  };
  // Records the batch in the writer's current transaction.
  static std::vector<Finished> FinishAll(store::Connection& c, const std::vector<Outcome>& batch,
                                         const std::map<std::string, DispatcherOptions::AfterFailure>& after_failure);
  // Logs and counts a recorded batch; its sends leave the in-flight count.
  void AfterRecord(const std::vector<Outcome>& batch, const std::vector<Finished>& finished);
  // A batch whose recording failed: logged, and its sends leave the in-flight count.
  void RecordFailed(const std::vector<Outcome>& batch, const std::exception& e);
  // Records every waiting outcome, in writer jobs of its own (when no claim is coming to carry them).
  net::awaitable<void> RecordPending();
  void WakeWaiters();
  // Under load the loop claims again once this many slots are free, and records the outcomes
  // waiting by then in the same transaction: one commit (one fsync) for both halves of a cycle.
  [[nodiscard]] int RefillAt() const { return std::clamp(options_.concurrency / 2, 1, 64); }

  net::strand<net::any_io_executor> strand_;
  store::Writer& writer_;
  std::map<std::string, channels::Sender*> senders_;
  const Clock& clock_;
  Random& random_;
  Metrics* metrics_;
  const Logger& log_;
  DispatcherOptions options_;
  std::map<std::string, TokenBucket> buckets_;
  std::map<std::string, WindowLimiter> recipient_limiters_;
  net::steady_timer wake_;
  net::steady_timer idle_;
  int in_flight_ = 0;  // sends whose outcome is not yet recorded (Stop and Drain wait for them)
  int sending_ = 0;    // sends the provider has not answered (bounded by options.concurrency)
  // The last round took every free slot: the next waits until RefillAt() of them are free
  // again, so claims go in batches instead of one writer job per finished send.
  bool saturated_ = false;
  // Outcomes of finished sends not yet recorded. While the loop runs, the next round records them
  // with its claim; otherwise (stopping, a test driving rounds, an idle loop going to sleep) they
  // are recorded in jobs of their own. One recording at a time.
  std::vector<Outcome> outcomes_;
  bool recording_ = false;
  bool notified_ = false;
  bool stopping_ = false;
  bool loop_running_ = false;
  Clock::TimePoint next_recovery_{};
  std::size_t round_ = 0;
};

}  // namespace duijie::bot
