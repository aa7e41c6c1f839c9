#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/connection.hpp"

namespace duijie::store {

/// Where a message may go instead.
struct Address {
  std::string channel;
  std::string recipient;
};

/// A message to send, as the dialogs or a broadcast asks for it.
struct NewOutboxMessage {
  std::string idempotency_key;  // the same key twice is one message
  std::string channel;          // 'wecom', 'sms', 'email'
  std::string recipient;        // channel address
  std::string kind;             // 'reply', 'match_push', 'reminder', ...
  std::string payload;          // neutral message as JSON text
  std::optional<std::int64_t> person_id;
  std::optional<std::int64_t> inbox_id;
  int priority = 0;  // higher first
  int max_attempts = 8;
  std::int64_t not_before_ms = 0;            // 0 = now
  std::vector<Address> fallback;             // tried in order if this one fails for good
  std::optional<std::int64_t> broadcast_id;  // the broadcast it is part of
};

struct OutboxMessage {
  std::int64_t id = 0;
  std::string idempotency_key;
  std::string channel;
  std::string recipient;
  std::string kind;
  std::string payload;
  std::string status;
  int priority = 0;
  int attempts = 0;
  int max_attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::optional<std::string> claimed_by;
  std::optional<std::string> provider_ref;
  std::optional<std::string> last_error;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct EnqueueResult {
  std::int64_t id = 0;
  bool duplicate = false;  // the key was already queued; nothing was added
};

/// How one attempt ended, as a sender reports it.
enum class AttemptOutcome {
  kSent,       // the provider accepted it
  kSandbox,    // recorded by the sandbox sender, never sent
  kRetryable,  // failed, another attempt may succeed
  kFailed,     // failed for good
  kUnknown,    // no answer (e.g. timeout after the request left): check before resending
};
[[nodiscard]] std::string_view ToString(AttemptOutcome outcome);

struct AttemptRecord {
  AttemptOutcome outcome = AttemptOutcome::kSent;
  std::string sender;
  std::string provider_ref;
  std::string error;
};

struct OutboxAttempt {
  int attempt = 0;
  std::string sender;
  std::string outcome;
  std::optional<std::string> error;
  std::optional<std::string> provider_ref;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> finished_at;
};

/// What recovery concluded about an attempt whose outcome was not recorded.
enum class Recovery {
  kWasSent,  // the sender has a record of it: mark sent, do not resend
  kWasLost,  // the sender certainly has no record: due again now
  kStillUnknown,
};

/// The outbox half of the ledger. Every function runs inside the caller's transaction (the
/// writer's batch for writes); none begins its own.
/// The extension code a message is sent with when extension codes are on (`digits` of them): the
/// outbox id's last digits, so a reply that comes back on it names the message it answers among
/// a number's recent ones.
[[nodiscard]] std::string ExtendCode(std::int64_t outbox_id, int digits);

class OutboxRepository {
 public:
  static EnqueueResult Enqueue(Connection& conn, const NewOutboxMessage& msg, std::int64_t now_ms);

  /// Claims up to `limit` due pending messages for `instance`: status 'sending', attempts+1,
  /// claimed_at now, before anything is sent. The attempt's row is written when it ends (Finish,
  /// Resolve); until then Attempts shows it 'in_flight'.
  static std::vector<OutboxMessage> ClaimDue(Connection& conn, std::string_view instance, std::string_view channel,
                                             std::int64_t now_ms, int limit);
  /// Whether `channel` has a pending message due by `now_ms`.
  /// Hands a message claimed in this transaction back unsent (a per-recipient limit is full):
  /// pending again from `not_before_ms`, the claim's attempt undone as if it never was.
  /// If message `id` ended failed or dead and has a fallback, queues the same message for the
  /// first fallback address (carrying the rest) and returns its id. Call in the transaction that
  /// recorded the failure, so a crash cannot lose or double the fallback.
  static std::optional<std::int64_t> EnqueueFallback(Connection& conn, std::int64_t id, std::int64_t now_ms);
  static void Defer(Connection& conn, std::int64_t id, int attempt, std::int64_t not_before_ms);
  static bool HasDue(Connection& conn, std::string_view channel, std::int64_t now_ms);

  /// Messages to `recipient` on `channel` of `kind` that wait unclaimed (pending, whenever due),
  /// other than `except_id`, oldest first: what one send could carry along (SMS coalescing).
  static std::vector<OutboxMessage> Waiting(Connection& conn, std::string_view channel, std::string_view recipient,
                                            std::string_view kind, std::int64_t except_id, int limit);
  /// The latest message sent to `recipient` on `channel` since `since_ms` whose ExtendCode is
  /// `extend`, with the messages it carried (`Merge`): their idempotency keys, the carrier's first.
  static std::vector<std::string> SentWithExtend(Connection& conn, std::string_view channel, std::string_view recipient,
                                                 std::string_view extend, std::int64_t since_ms);
  /// Replaces the payload of message `id`, claimed in this transaction, with what it will now
  /// carry; its fallback and any later attempt carry the same.
  static void Rewrite(Connection& conn, std::int64_t id, const std::string& payload);
  /// Messages `ids`, still pending, are carried by message `into`: they end as 'cancelled' with
  /// `merged_into` set and are never sent on their own. Returns how many were merged.
  static int Merge(Connection& conn, std::span<const std::int64_t> ids, std::int64_t into, std::int64_t now_ms);

  /// Records the end of attempt `attempt` and moves the message on. `retry_at_ms` is when a
  /// retryable failure is tried again or an unknown outcome is checked. Returns false, changing
  /// nothing, when the message is no longer in that attempt (another dispatcher recovered it).
  static bool Finish(Connection& conn, std::int64_t id, int attempt, const AttemptRecord& record, std::int64_t now_ms,
                     std::int64_t retry_at_ms);

  /// Messages whose last attempt has no recorded outcome: claimed by another (dead) instance, or
  /// claimed longer ago than `stale_before_ms`, or 'unknown' and due for a check.
  static std::vector<OutboxMessage> InDoubt(Connection& conn, std::string_view instance, std::int64_t stale_before_ms,
                                            std::int64_t now_ms, int limit);

  /// Applies what recovery learnt about message `id` in attempt `attempt`. A message found sent
  /// ends in `sent_status` ('sent', or 'sandbox' for the sandbox sender). One still unknown whose
  /// attempt started before `give_up_before_ms` (0: never) is dead-lettered, never resent.
  static bool Resolve(Connection& conn, std::int64_t id, int attempt, Recovery recovery,
                      const std::string& provider_ref, std::string_view sent_status, std::int64_t now_ms,
                      std::int64_t recheck_at_ms, std::int64_t give_up_before_ms = 0);

  /// How a delivery receipt was taken.
  enum class Delivery {
    kRecorded,  // the message moved to 'delivered' or 'failed'
    kIgnored,   // no such message, or it is final already (receipts never move one backward)
    kInFlight,  // its send is still being recorded: the receipt must be taken again later
  };
  /// A provider's delivery receipt: the provider's reference for the message and, for providers
  /// that echo ours, the outbox id; the channel and number it came for, where the provider says.
  struct Receipt {
    std::string provider_ref;
    std::optional<std::int64_t> id;
    std::string channel;
    std::string recipient;
    bool delivered = false;
    std::string reason;
  };
  /// How long after a message finished its delivery receipt is still taken. Carriers report
  /// within 72 hours; a receipt later than this is ignored.
  static constexpr std::int64_t kReceiptWindowMs = 7LL * 24 * 60 * 60 * 1000;
  /// Takes `receipt`: 'sent' or 'unknown' becomes 'delivered', or 'failed' with the carrier's
  /// reason and the message's fallback queued. The message is the one with the receipt's
  /// reference among those to its channel and recipient that finished within kReceiptWindowMs or
  /// are unfinished; else, when the receipt names one, the outbox id. A receipt with neither a
  /// number nor our id matches nothing (every provider's carries the number). A receipt that
  /// matches nothing while a message to its recipient may have reached the provider without our
  /// knowing its reference yet ('sending', or 'unknown' after a crash or a timeout) is kInFlight
  /// too: it may be that message's, and is worth taking again once that is settled.
  static Delivery RecordDelivery(Connection& conn, const Receipt& receipt, std::int64_t now_ms);
  /// When the messages to `recipient` on `channel` that reached (or may have reached) the
  /// provider in (`since_ms`, `now_ms`] were sent, oldest first: those of the kinds in `kinds`, or
  /// of all other kinds if `only_kinds` is false; `except_id` not counted. `now_ms` is the claim
  /// time: messages claimed in this same transaction count in id order.
  static std::vector<std::int64_t> SentTimes(Connection& conn, std::string_view channel, std::string_view recipient,
                                             std::int64_t since_ms, std::int64_t now_ms, std::int64_t except_id,
                                             const std::vector<std::string>& kinds, bool only_kinds);
  static std::optional<OutboxMessage> Find(Connection& conn, std::int64_t id);
  static std::vector<OutboxMessage> Recent(Connection& conn, int limit, std::optional<std::string> status);
  static std::vector<OutboxAttempt> Attempts(Connection& conn, std::int64_t id);
  static std::map<std::string, std::int64_t> CountByStatus(Connection& conn);
  /// Earliest next_attempt_at among pending and unknown messages, if any.
  static std::optional<std::int64_t> NextDue(Connection& conn);
};

}  // namespace duijie::store
