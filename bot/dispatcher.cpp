#include "bot/dispatcher.hpp"

#include <algorithm>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/mask.hpp"

namespace duijie::bot {
namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr int kRecoveryPage = 256;

std::string_view RecoveryName(store::Recovery r) {
  switch (r) {
    case store::Recovery::kWasSent:
      return "recovered_sent";
    case store::Recovery::kWasLost:
      return "recovered_lost";
    case store::Recovery::kStillUnknown:
      return "unknown";
  }
  return "unknown";
}

// Recipients are phone numbers and emails: never logged in the clear.
std::string MaskedRecipient(const store::OutboxMessage& m) { return MaskAddress(m.recipient); }

}  // namespace

Dispatcher::Dispatcher(const net::any_io_executor& executor, store::Writer& writer,
                       std::map<std::string, channels::Sender*> senders, const Clock& clock, Random& random,
                       Metrics* metrics, const Logger& log, DispatcherOptions options)
    : strand_(net::make_strand(executor)),
      writer_(writer),
      senders_(std::move(senders)),
      clock_(clock),
      random_(random),
      metrics_(metrics),
      log_(log),
      options_(std::move(options)),
      wake_(strand_),
      idle_(strand_) {
  const auto now = clock_.Now();
  for (const auto& [channel, sender] : senders_) {
    const auto it = options_.rates.find(channel);
    const auto rate = it == options_.rates.end() ? DispatcherOptions::Rate{} : it->second;
    buckets_.emplace(channel, TokenBucket(rate.per_second, rate.burst, now));
    const auto limits = options_.recipient_limits.find(channel);
    if (limits != options_.recipient_limits.end()) recipient_limiters_.emplace(channel, WindowLimiter(limits->second));
  }
}

void Dispatcher::Start() {
  loop_running_ = true;
  net::co_spawn(strand_, Loop(), [this](const std::exception_ptr& e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_.Error("dispatcher stopped by an error", {{"error", ex.what()}});
      }
    }
    loop_running_ = false;
    idle_.cancel();
  });
}

void Dispatcher::Notify() {
  net::post(strand_, [this] {
    notified_ = true;
    wake_.cancel();
  });
}

void Dispatcher::WakeWaiters() {
  // Waiters (Drain, Stop) re-check their own condition after every wake-up.
  if (in_flight_ == 0) idle_.cancel();
}

net::awaitable<void> Dispatcher::Loop() {
  while (!stopping_) {
    Clock::TimePoint next;
    try {
      next = co_await Round();
    } catch (const std::exception& e) {
      // Most likely the store is unavailable (disk full, locked): keep trying at the poll rate.
      log_.Error("dispatcher round failed", {{"error", e.what()}});
      next = clock_.Now() + options_.poll_interval;
    }
    if (stopping_) break;
    if (saturated_ && options_.concurrency - sending_ < RefillAt()) {
      // SendOne wakes the loop when enough slots are free.
      wake_.expires_after(options_.poll_interval);
      co_await wake_.async_wait(kTuple);
      continue;
    }
    if (notified_ && sending_ < options_.concurrency) continue;
    const auto wait = next - clock_.Now();
    if (wait <= Clock::Duration::zero() && sending_ < options_.concurrency) {
      // Due now: yield to other work on the strand (completions) before the next round.
      co_await net::post(strand_, net::use_awaitable);
      continue;
    }
    if (!outcomes_.empty() && !recording_) {
      // No claim is coming soon to carry them.
      co_await RecordPending();
      continue;
    }
    wake_.expires_after(std::max(wait, Clock::Duration{std::chrono::milliseconds(1)}));
    co_await wake_.async_wait(kTuple);
  }
}

net::awaitable<Clock::TimePoint> Dispatcher::Round() {
  notified_ = false;
  const auto now = clock_.Now();
  const std::int64_t now_ms = ToUnixMillis(now);
  if (now >= next_recovery_) {
    co_await Recover(now_ms);
    next_recovery_ = now + options_.unknown_recheck;
  }
  auto next = std::min(now + options_.poll_interval, next_recovery_);
  if (stopping_) co_return next;

  // How many each channel may claim now: limited by its bucket; all together by free concurrency.
  // Free slots go to channels that actually have messages due (the claim job decides), starting
  // with a different channel each round so a busy channel cannot starve the others.
  std::vector<std::pair<std::string, int>> quota;
  const int free = options_.concurrency - sending_;
  if (free <= 0) co_return next;
  for (auto& [channel, bucket] : buckets_) {
    const long n = std::min<long>({bucket.Available(now), options_.batch, free});
    if (n <= 0) {
      next = std::min(next, now + bucket.WaitForOne(now));
      continue;
    }
    quota.emplace_back(channel, static_cast<int>(n));
  }
  if (quota.empty()) {
    saturated_ = false;  // the rate limits decide when to look again, not free slots
    co_return next;
  }
  std::rotate(quota.begin(), quota.begin() + static_cast<long>(round_++ % quota.size()), quota.end());

  struct Claimed {
    std::vector<store::OutboxMessage> messages;
    std::optional<std::int64_t> next_due;
    std::vector<Finished> finished;  // of the outcomes recorded first, in the same transaction
  };
  std::vector<Outcome> to_record;
  if (!recording_ && !outcomes_.empty()) {
    to_record.swap(outcomes_);
    recording_ = true;
  }
  const auto* after_failure = &options_.after_failure;
  const std::string instance = options_.instance;
  // The recipient limiters are used only here, while this round waits for the claim, so the
  // writer thread may consult them; a message over its limit goes back in the same transaction.
  auto* limiters = &recipient_limiters_;
  const auto* gates = &options_.gates;
  std::map<std::string, int> deferred;  // by channel, for the metrics
  struct Refusal {
    std::int64_t id;
    std::string channel;
    std::string reason;
  };
  std::vector<Refusal> refused;
  const auto* coalescers = &options_.coalesce;
  const auto claim = [quota, free, instance, now, now_ms, limiters, gates, coalescers, &deferred, &refused, &to_record,
                      after_failure](store::Connection& c) {
    Claimed out;
    if (!to_record.empty()) out.finished = FinishAll(c, to_record, *after_failure);
    int left = free;
    for (const auto& [channel, n] : quota) {
      if (left <= 0) break;
      auto batch = store::OutboxRepository::ClaimDue(c, instance, channel, now_ms, std::min(n, left));
      const auto limiter = limiters->find(channel);
      const auto gate = gates->find(channel);
      const auto coalesce = coalescers->find(channel);
      if (coalesce != coalescers->end()) {
        // One message per recipient goes on; the others wait (due now) where it can carry them.
        std::set<std::string> recipients;
        std::erase_if(batch, [&](const store::OutboxMessage& m) {
          if (recipients.insert(m.recipient).second) return false;
          store::OutboxRepository::Defer(c, m.id, m.attempts, now_ms);
          return true;
        });
      }
      for (auto& m : batch) {
        if (gate != gates->end()) {
          const auto decision = gate->second(c, m, now_ms);
          if (decision.kind == channels::GateDecision::Kind::kDefer) {
            store::OutboxRepository::Defer(c, m.id, m.attempts, std::max(decision.until_ms, now_ms + 1));
            ++deferred[channel];
            continue;
          }
          if (decision.kind == channels::GateDecision::Kind::kRefuse) {
            const store::AttemptRecord record{store::AttemptOutcome::kFailed, "policy", "", decision.reason};
            store::OutboxRepository::Finish(c, m.id, m.attempts, record, now_ms, now_ms);
            store::OutboxRepository::EnqueueFallback(c, m.id, now_ms);
            refused.push_back({m.id, channel, decision.reason});
            continue;
          }
        }
        if (limiter != limiters->end()) {
          const auto wait = limiter->second.TryTake(m.recipient, now);
          if (wait > Clock::Duration::zero()) {
            store::OutboxRepository::Defer(c, m.id, m.attempts, ToUnixMillis(now + wait));
            ++deferred[channel];
            continue;
          }
        }
        if (coalesce != coalescers->end()) coalesce->second(c, m, now_ms);
        --left;
        out.messages.push_back(std::move(m));
      }
    }
    out.next_due = store::OutboxRepository::NextDue(c);
    return out;
  };
  Claimed claimed;
  try {
    claimed = co_await writer_.Run(claim);
  } catch (const std::exception& e) {
    if (!to_record.empty()) {
      recording_ = false;
      RecordFailed(to_record, e);
    }
    throw;
  }
  if (!to_record.empty()) {
    recording_ = false;
    AfterRecord(to_record, claimed.finished);
  }
  if (metrics_ != nullptr) {
    for (const auto& [channel, n] : deferred) {
      for (int i = 0; i < n; ++i) metrics_->CountAttempt(channel, "deferred");
    }
    for (const auto& r : refused) metrics_->CountAttempt(r.channel, "refused");
  }
  for (const auto& r : refused) {
    log_.Warn("outbox message refused by the channel's rules",
              {{"id", r.id}, {"channel", r.channel}, {"reason", r.reason}});
  }

  std::map<std::string, int> taken;
  for (auto& m : claimed.messages) {
    auto& bucket = buckets_.at(m.channel);
    (void)bucket.TryTake(now);
    ++taken[m.channel];
    ++in_flight_;
    ++sending_;
    auto* sender = senders_.at(m.channel);
    net::co_spawn(strand_, SendOne(std::move(m), *sender), [this](const std::exception_ptr& e) {
      if (!e) return;  // the outcome leaves the in-flight count when it is recorded
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_.Error("send task failed", {{"error", ex.what()}});
      }
      --in_flight_;
      WakeWaiters();
    });
  }
  // A channel that filled its quota probably has more due: come back as soon as it may send.
  for (const auto& [channel, n] : quota) {
    if (taken[channel] == n) next = std::min(next, now + buckets_.at(channel).WaitForOne(now));
  }
  saturated_ = static_cast<int>(claimed.messages.size()) == free;
  if (saturated_) next = now;  // more may be due; capacity decides
  if (claimed.next_due) next = std::min(next, FromUnixMillis(*claimed.next_due));
  co_return next;
}

net::awaitable<void> Dispatcher::Recover(std::int64_t now_ms) {
  const std::string instance = options_.instance;
  const std::int64_t stale_before = now_ms - options_.claim_stale.count();
  for (;;) {
    const auto find_doubts = [instance, stale_before, now_ms](store::Connection& c) {
      return store::OutboxRepository::InDoubt(c, instance, stale_before, now_ms, kRecoveryPage);
    };
    auto doubts = co_await writer_.Run(find_doubts);
    if (doubts.empty()) co_return;
    struct Resolution {
      std::int64_t id;
      int attempt;
      channels::LookupResult result;
    };
    std::vector<Resolution> resolutions;
    for (const auto& m : doubts) {
      channels::LookupResult result;
      if (auto it = senders_.find(m.channel); it != senders_.end()) {
        try {
          result = co_await it->second->Lookup(m);
        } catch (const std::exception& e) {
          log_.Warn("outbox lookup failed", {{"id", m.id}, {"error", e.what()}});
        }
      }
      log_.Info("outbox message in doubt examined", {{"id", m.id},
                                                     {"channel", m.channel},
                                                     {"recipient", MaskedRecipient(m)},
                                                     {"attempt", m.attempts},
                                                     {"conclusion", RecoveryName(result.recovery)}});
      if (metrics_ != nullptr) metrics_->CountAttempt(m.channel, RecoveryName(result.recovery));
      resolutions.push_back({m.id, m.attempts, std::move(result)});
    }
    const auto recheck = now_ms + options_.unknown_recheck.count();
    const auto give_up = now_ms - options_.unknown_give_up.count();
    const auto resolve = [&resolutions, now_ms, recheck, give_up](store::Connection& c) {
      for (const auto& r : resolutions) {
        store::OutboxRepository::Resolve(c, r.id, r.attempt, r.result.recovery, r.result.provider_ref,
                                         r.result.sent_status, now_ms, recheck, give_up);
      }
    };
    co_await writer_.Run(resolve);
    // Still-unknown ones are due again only at `recheck`, so the loop ends once a page is done.
    if (static_cast<int>(doubts.size()) < kRecoveryPage) co_return;
  }
}

net::awaitable<void> Dispatcher::SendOne(store::OutboxMessage msg, channels::Sender& sender) {
  store::AttemptRecord record;
  try {
    record = co_await sender.Send(msg);
  } catch (const std::exception& e) {
    // We cannot tell whether the request left: treat it as unknown and look it up later.
    record = {store::AttemptOutcome::kUnknown, std::string(sender.Name()), "", e.what()};
  }
  // The provider is done with it: its slot may take the next message while the outcome is being
  // committed (the message stays 'sending' in the store until then, so nobody claims it twice).
  --sending_;
  if (!saturated_ || options_.concurrency - sending_ >= RefillAt()) wake_.cancel();
  const auto now = clock_.Now();
  const std::int64_t now_ms = ToUnixMillis(now);
  std::int64_t retry_at = now_ms + options_.unknown_recheck.count();
  if (record.outcome == store::AttemptOutcome::kRetryable) {
    retry_at = now_ms + RetryDelay(msg.attempts, options_.backoff, random_).count();
  }
  outcomes_.push_back({std::move(msg), std::move(record), now_ms, retry_at});
  // While the loop runs, its next round records this outcome with its claim (woken above, or by
  // the sends still out); a send whose outcome is lost in a crash is examined as in doubt, never
  // sent again.
  if (loop_running_ && !stopping_) co_return;
  co_await RecordPending();
}

std::vector<Dispatcher::Finished> Dispatcher::FinishAll(
    store::Connection& c, const std::vector<Outcome>& batch,
    const std::map<std::string, DispatcherOptions::AfterFailure>& after_failure) {
  std::vector<Finished> out;
  out.reserve(batch.size());
  for (const auto& o : batch) {
    Finished f;
    f.recorded = store::OutboxRepository::Finish(c, o.msg.id, o.msg.attempts, o.record, o.now_ms, o.retry_at);
    const auto after = after_failure.find(o.msg.channel);
    if (f.recorded && after != after_failure.end() && o.record.outcome == store::AttemptOutcome::kFailed) {
      after->second(c, o.msg, o.record, o.now_ms);
    }
    // A final failure hands the message to the next address in the same transaction.
    const bool final_failure =
        o.record.outcome == store::AttemptOutcome::kFailed ||
        (o.record.outcome == store::AttemptOutcome::kRetryable && o.msg.attempts >= o.msg.max_attempts);
    if (f.recorded && final_failure) f.fallback = store::OutboxRepository::EnqueueFallback(c, o.msg.id, o.now_ms);
    out.push_back(f);
  }
  return out;
}

net::awaitable<void> Dispatcher::RecordPending() {
  if (recording_) co_return;
  recording_ = true;
  while (!outcomes_.empty()) {
    std::vector<Outcome> batch;
    batch.swap(outcomes_);
    try {
      const auto* after_failure = &options_.after_failure;
      const auto finished = co_await writer_.Run(
          [&batch, after_failure](store::Connection& c) { return FinishAll(c, batch, *after_failure); });
      AfterRecord(batch, finished);
    } catch (const std::exception& e) {
      RecordFailed(batch, e);
    }
  }
  recording_ = false;
}

void Dispatcher::RecordFailed(const std::vector<Outcome>& batch, const std::exception& e) {
  // The outcomes are lost; the messages stay 'sending' and are examined as in doubt later.
  log_.Error("could not record send outcomes", {{"count", batch.size()}, {"error", e.what()}});
  in_flight_ -= static_cast<int>(batch.size());
  WakeWaiters();
}

void Dispatcher::AfterRecord(const std::vector<Outcome>& batch, const std::vector<Finished>& finished) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& msg = batch[i].msg;
    const auto& record = batch[i].record;
    if (metrics_ != nullptr) metrics_->CountAttempt(msg.channel, ToString(record.outcome));
    if (!finished[i].recorded) {
      log_.Warn("send outcome not recorded: message was recovered meanwhile", {{"id", msg.id}});
      continue;
    }
    const bool exhausted = record.outcome == store::AttemptOutcome::kRetryable && msg.attempts >= msg.max_attempts;
    if (exhausted || record.outcome == store::AttemptOutcome::kFailed) {
      log_.Warn(exhausted ? "outbox message dead-lettered" : "outbox message failed",
                {{"id", msg.id},
                 {"channel", msg.channel},
                 {"recipient", MaskedRecipient(msg)},
                 {"attempts", msg.attempts},
                 {"error", record.error},
                 {"fallback_id", finished[i].fallback ? nlohmann::json(*finished[i].fallback) : nlohmann::json()}});
      if (finished[i].fallback) {
        notified_ = true;  // the fallback is due now: the loop runs another round
        wake_.cancel();
      }
    } else if (log_.Enabled(LogLevel::kDebug)) {
      log_.Debug("outbox attempt", {{"id", msg.id},
                                    {"channel", msg.channel},
                                    {"recipient", MaskedRecipient(msg)},
                                    {"outcome", ToString(record.outcome)}});
    }
  }
  in_flight_ -= static_cast<int>(batch.size());
  WakeWaiters();
}

net::awaitable<void> Dispatcher::Drain() {
  while (in_flight_ > 0) {
    if (!outcomes_.empty() && !recording_) {
      co_await RecordPending();
      continue;
    }
    idle_.expires_after(std::chrono::seconds(30));
    co_await idle_.async_wait(kTuple);
  }
}

net::awaitable<void> Dispatcher::Stop() {
  co_await net::co_spawn(
      strand_,
      [this]() -> net::awaitable<void> {
        stopping_ = true;
        wake_.cancel();
        while (loop_running_ || in_flight_ > 0) {
          if (!loop_running_ && !outcomes_.empty() && !recording_) {
            co_await RecordPending();
            continue;
          }
          idle_.expires_after(std::chrono::seconds(30));
          co_await idle_.async_wait(kTuple);
        }
      },
      net::use_awaitable);
}

}  // namespace duijie::bot
