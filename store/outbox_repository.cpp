#include "store/outbox_repository.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

namespace duijie::store {
namespace {

#define DUIJIE_OUTBOX_COLUMNS                                                                          \
  "id, idempotency_key, channel, recipient, kind, payload, status, priority, attempts, max_attempts, " \
  "next_attempt_at, claimed_by, provider_ref, last_error, created_at, updated_at"

std::optional<std::string> OptText(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}

OutboxMessage ReadMessage(SQLite::Statement& s) {
  OutboxMessage m;
  m.id = s.getColumn(0).getInt64();
  m.idempotency_key = s.getColumn(1).getString();
  m.channel = s.getColumn(2).getString();
  m.recipient = s.getColumn(3).getString();
  m.kind = s.getColumn(4).getString();
  m.payload = s.getColumn(5).getString();
  m.status = s.getColumn(6).getString();
  m.priority = s.getColumn(7).getInt();
  m.attempts = s.getColumn(8).getInt();
  m.max_attempts = s.getColumn(9).getInt();
  m.next_attempt_at = s.getColumn(10).getInt64();
  m.claimed_by = OptText(s.getColumn(11));
  m.provider_ref = OptText(s.getColumn(12));
  m.last_error = OptText(s.getColumn(13));
  m.created_at = s.getColumn(14).getInt64();
  m.updated_at = s.getColumn(15).getInt64();
  return m;
}

void BindOpt(SQLite::Statement& s, const char* name, const std::optional<std::int64_t>& v) {
  if (v) {
    s.bind(name, *v);
  } else {
    s.bind(name);
  }
}

void BindOptText(SQLite::Statement& s, const char* name, const std::string& v) {
  if (v.empty()) {
    s.bind(name);
  } else {
    s.bind(name, v);
  }
}

// Records how attempt `attempt` of message `id` ended, if the message is still in that attempt:
// 'sending', or also 'unknown' when `unknown_too`. Empty strings keep what is stored. Call before
// the message's own update, which clears claimed_at, the attempt's start. The row is written
// here, once per attempt: a claim writes nothing but the message (one row less to write and
// rewrite per send). A row an earlier version wrote 'in_flight' at the claim is completed.
void CloseAttempt(Connection& conn, std::int64_t id, int attempt, bool unknown_too, std::string_view outcome,
                  const std::string& sender, const std::string& error, const std::string& provider_ref,
                  std::int64_t now_ms) {
  auto& att = conn.Prepare(
      "INSERT INTO outbox_attempts (outbox_id, attempt, outcome, sender, error, provider_ref, started_at, finished_at) "
      "SELECT id, attempts, :outcome, :sender, :error, :ref, COALESCE(claimed_at, updated_at), :now FROM outbox "
      "WHERE id = :id AND attempts = :attempt AND (status = 'sending' OR (:unknown_too AND status = 'unknown')) "
      "ON CONFLICT (outbox_id, attempt) DO UPDATE SET outcome = excluded.outcome, "
      "  sender = COALESCE(excluded.sender, sender), error = COALESCE(excluded.error, error), "
      "  provider_ref = COALESCE(excluded.provider_ref, provider_ref), finished_at = excluded.finished_at");
  att.bind(":outcome", std::string(outcome));
  BindOptText(att, ":sender", sender);
  BindOptText(att, ":error", error);
  BindOptText(att, ":ref", provider_ref);
  att.bind(":now", now_ms);
  att.bind(":id", id);
  att.bind(":attempt", attempt);
  att.bind(":unknown_too", unknown_too ? 1 : 0);
  att.exec();
}

// Whether a message to `recipient` on `channel` may have reached its provider without our knowing
// its reference yet.
bool AwaitingReference(Connection& conn, std::string_view channel, const std::string& recipient) {
  // Both statuses leave finished_at NULL: the recipient's unfinished range of the index.
  auto& q = conn.Prepare(
      "SELECT 1 FROM outbox INDEXED BY outbox_recipient WHERE channel = ? AND recipient = ? AND finished_at IS NULL "
      "AND (status = 'sending' OR status = 'unknown') AND provider_ref IS NULL LIMIT 1");
  q.bind(1, std::string(channel));
  q.bind(2, recipient);
  const bool found = q.executeStep();
  q.reset();
  return found;
}

}  // namespace

std::string_view ToString(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kSent:
      return "sent";
    case AttemptOutcome::kSandbox:
      return "sandbox";
    case AttemptOutcome::kRetryable:
      return "retryable";
    case AttemptOutcome::kFailed:
      return "failed";
    case AttemptOutcome::kUnknown:
      return "unknown";
  }
  return "unknown";
}

EnqueueResult OutboxRepository::Enqueue(Connection& conn, const NewOutboxMessage& msg, std::int64_t now_ms) {
  auto& ins = conn.Prepare(
      "INSERT INTO outbox (idempotency_key, channel, recipient, person_id, kind, payload, priority, "
      "max_attempts, next_attempt_at, inbox_id, broadcast_id, fallback, created_at, updated_at) "
      "VALUES (:key, :channel, :recipient, :person, :kind, :payload, :priority, :max_attempts, :due, :inbox, "
      ":broadcast, :fallback, :now, :now) ON CONFLICT (idempotency_key) DO NOTHING");
  ins.bind(":key", msg.idempotency_key);
  ins.bind(":channel", msg.channel);
  ins.bind(":recipient", msg.recipient);
  BindOpt(ins, ":person", msg.person_id);
  ins.bind(":kind", msg.kind);
  ins.bind(":payload", msg.payload);
  ins.bind(":priority", msg.priority);
  ins.bind(":max_attempts", msg.max_attempts);
  ins.bind(":due", msg.not_before_ms > 0 ? msg.not_before_ms : now_ms);
  BindOpt(ins, ":inbox", msg.inbox_id);
  BindOpt(ins, ":broadcast", msg.broadcast_id);
  if (msg.fallback.empty()) {
    ins.bind(":fallback");
  } else {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : msg.fallback) list.push_back({{"channel", a.channel}, {"recipient", a.recipient}});
    ins.bind(":fallback", list.dump());
  }
  ins.bind(":now", now_ms);
  if (ins.exec() == 1) return {conn.Db().getLastInsertRowid(), false};
  auto& sel = conn.Prepare("SELECT id FROM outbox WHERE idempotency_key = :key");
  sel.bind(":key", msg.idempotency_key);
  sel.executeStep();
  return {sel.getColumn(0).getInt64(), true};
}

std::vector<OutboxMessage> OutboxRepository::ClaimDue(Connection& conn, std::string_view instance,
                                                      std::string_view channel, std::int64_t now_ms, int limit) {
  std::vector<OutboxMessage> claimed;
  auto& claim = conn.Prepare(
      "UPDATE outbox SET status = 'sending', claimed_by = :instance, claimed_at = :now, "
      "attempts = attempts + 1, updated_at = :now "
      "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND channel = :channel "
      "             AND next_attempt_at <= :now "
      "             ORDER BY priority DESC, next_attempt_at, id LIMIT :limit) "
      "RETURNING " DUIJIE_OUTBOX_COLUMNS);
  claim.bind(":instance", std::string(instance));
  claim.bind(":channel", std::string(channel));
  claim.bind(":now", now_ms);
  claim.bind(":limit", limit);
  while (claim.executeStep()) claimed.push_back(ReadMessage(claim));
  // RETURNING does not keep the subquery's order; callers send in priority order.
  std::sort(claimed.begin(), claimed.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
    return std::tie(b.priority, a.next_attempt_at, a.id) < std::tie(a.priority, b.next_attempt_at, b.id);
  });
  return claimed;
}

std::optional<std::int64_t> OutboxRepository::EnqueueFallback(Connection& conn, std::int64_t id, std::int64_t now_ms) {
  auto& sel = conn.Prepare(
      "SELECT idempotency_key, kind, payload, person_id, inbox_id, priority, max_attempts, fallback, broadcast_id "
      "FROM outbox WHERE id = :id AND status IN ('failed', 'dead') AND fallback IS NOT NULL "
      // A cancelled broadcast sends nothing more, not even to another address.
      "AND (broadcast_id IS NULL OR broadcast_id NOT IN (SELECT id FROM broadcasts WHERE status = 'cancelled'))");
  sel.bind(":id", id);
  if (!sel.executeStep()) {
    sel.reset();
    return std::nullopt;
  }
  NewOutboxMessage next;
  const std::string key = sel.getColumn(0).getString();
  next.kind = sel.getColumn(1).getString();
  next.payload = sel.getColumn(2).getString();
  if (!sel.getColumn(3).isNull()) next.person_id = sel.getColumn(3).getInt64();
  if (!sel.getColumn(4).isNull()) next.inbox_id = sel.getColumn(4).getInt64();
  next.priority = sel.getColumn(5).getInt();
  next.max_attempts = sel.getColumn(6).getInt();
  const auto list = nlohmann::json::parse(sel.getColumn(7).getString(), nullptr, false);
  if (!sel.getColumn(8).isNull()) next.broadcast_id = sel.getColumn(8).getInt64();
  sel.reset();
  if (!list.is_array() || list.empty()) return std::nullopt;
  for (const auto& a : list) next.fallback.push_back({a.value("channel", ""), a.value("recipient", "")});
  next.channel = next.fallback.front().channel;
  next.recipient = next.fallback.front().recipient;
  next.fallback.erase(next.fallback.begin());
  next.idempotency_key = key + ">" + next.channel;
  const auto queued = Enqueue(conn, next, now_ms);
  if (queued.duplicate) return std::nullopt;
  return queued.id;
}

void OutboxRepository::Defer(Connection& conn, std::int64_t id, int attempt, std::int64_t not_before_ms) {
  auto& upd = conn.Prepare(
      "UPDATE outbox SET status = 'pending', attempts = attempts - 1, next_attempt_at = :at, "
      "claimed_by = NULL, claimed_at = NULL "
      "WHERE id = :id AND attempts = :attempt AND status = 'sending'");
  upd.bind(":at", not_before_ms);
  upd.bind(":id", id);
  upd.bind(":attempt", attempt);
  upd.exec();
}

namespace {
// 10^digits: an extension code of that many digits is the outbox id modulo it.
std::int64_t ExtendModulus(std::size_t digits) {
  std::int64_t mod = 1;
  for (std::size_t i = 0; i < digits; ++i) mod *= 10;
  return mod;
}
}  // namespace

std::string ExtendCode(std::int64_t outbox_id, int digits) {
  std::string code = std::to_string(outbox_id % ExtendModulus(static_cast<std::size_t>(digits)));
  return std::string(static_cast<std::size_t>(digits) - std::min(code.size(), static_cast<std::size_t>(digits)), '0') +
         code;
}

std::vector<std::string> OutboxRepository::SentWithExtend(Connection& conn, std::string_view channel,
                                                          std::string_view recipient, std::string_view extend,
                                                          std::int64_t since_ms) {
  std::vector<std::string> keys;
  if (extend.empty() || extend.size() > 9 ||
      !std::all_of(extend.begin(), extend.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return keys;
  }
  const std::int64_t mod = ExtendModulus(extend.size());
  // Two ranges of the recipient's index entries, as in SentTimes: sent since `since`, and unknown
  // (whose outcome was lost at updated_at).
  auto& sel = conn.Prepare(
      "SELECT id, idempotency_key FROM outbox INDEXED BY outbox_recipient WHERE channel = :channel "
      "AND recipient = :recipient AND finished_at >= :since AND (status = 'sent' OR status = 'delivered') "
      "AND id % :mod = :extend "
      "UNION ALL "
      "SELECT id, idempotency_key FROM outbox INDEXED BY outbox_recipient WHERE channel = :channel "
      "AND recipient = :recipient AND finished_at IS NULL AND status = 'unknown' AND updated_at >= :since "
      "AND id % :mod = :extend "
      "ORDER BY id DESC LIMIT 1");
  sel.bind(":channel", std::string(channel));
  sel.bind(":recipient", std::string(recipient));
  sel.bind(":since", since_ms);
  sel.bind(":mod", mod);
  sel.bind(":extend", static_cast<std::int64_t>(std::stoll(std::string(extend))));
  if (!sel.executeStep()) {
    sel.reset();
    return keys;
  }
  const std::int64_t id = sel.getColumn(0).getInt64();
  keys.push_back(sel.getColumn(1).getString());
  sel.reset();
  auto& carried = conn.Prepare("SELECT idempotency_key FROM outbox WHERE merged_into = :id ORDER BY id");
  carried.bind(":id", id);
  while (carried.executeStep()) keys.push_back(carried.getColumn(0).getString());
  carried.reset();
  return keys;
}

std::vector<OutboxMessage> OutboxRepository::Waiting(Connection& conn, std::string_view channel,
                                                     std::string_view recipient, std::string_view kind,
                                                     std::int64_t except_id, int limit) {
  // Named: without statistics the planner takes outbox_status and walks every pending message.
  // Pending messages are unfinished: only the recipient's NULL range of finished_at is read.
  auto& sel =
      conn.Prepare("SELECT " DUIJIE_OUTBOX_COLUMNS
                   " FROM outbox INDEXED BY outbox_recipient WHERE channel = :channel AND recipient = :recipient "
                   "AND finished_at IS NULL AND status = 'pending' "
                   "AND kind = :kind AND id != :except ORDER BY id LIMIT :limit");
  sel.bind(":channel", std::string(channel));
  sel.bind(":recipient", std::string(recipient));
  sel.bind(":kind", std::string(kind));
  sel.bind(":except", except_id);
  sel.bind(":limit", limit);
  std::vector<OutboxMessage> out;
  while (sel.executeStep()) out.push_back(ReadMessage(sel));
  sel.reset();
  return out;
}

void OutboxRepository::Rewrite(Connection& conn, std::int64_t id, const std::string& payload) {
  auto& upd = conn.Prepare("UPDATE outbox SET payload = :payload WHERE id = :id AND status = 'sending'");
  upd.bind(":payload", payload);
  upd.bind(":id", id);
  if (upd.exec() != 1) throw std::logic_error("outbox message " + std::to_string(id) + " is not claimed");
}

int OutboxRepository::Merge(Connection& conn, std::span<const std::int64_t> ids, std::int64_t into,
                            std::int64_t now_ms) {
  auto& upd = conn.Prepare(
      "UPDATE outbox SET status = 'cancelled', merged_into = :into, last_error = 'sent with message ' || :into, "
      "updated_at = :now, finished_at = :now WHERE id = :id AND status = 'pending'");
  int merged = 0;
  for (const auto id : ids) {
    upd.reset();
    upd.bind(":into", into);
    upd.bind(":now", now_ms);
    upd.bind(":id", id);
    merged += upd.exec();
  }
  return merged;
}

bool OutboxRepository::Finish(Connection& conn, std::int64_t id, int attempt, const AttemptRecord& record,
                              std::int64_t now_ms, std::int64_t retry_at_ms) {
  // The CASE decides the next status in SQL so the exhausted check uses the stored counts.
  auto& upd = conn.Prepare(
      "UPDATE outbox SET "
      "  status = CASE :outcome "
      "    WHEN 'sent' THEN 'sent' WHEN 'sandbox' THEN 'sandbox' WHEN 'failed' THEN 'failed' "
      "    WHEN 'unknown' THEN 'unknown' "
      "    ELSE CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END END, "
      "  next_attempt_at = CASE WHEN :outcome IN ('retryable', 'unknown') THEN :retry_at ELSE next_attempt_at END, "
      "  provider_ref = COALESCE(:ref, provider_ref), "
      "  last_error = CASE WHEN :outcome IN ('sent', 'sandbox') THEN NULL ELSE :error END, "
      "  claimed_by = NULL, claimed_at = NULL, updated_at = :now, "
      "  finished_at = CASE WHEN :outcome = 'sent' OR :outcome = 'sandbox' OR :outcome = 'failed' "
      "                       OR (:outcome = 'retryable' AND attempts >= max_attempts) THEN :now END "
      "WHERE id = :id AND status = 'sending' AND attempts = :attempt");
  const std::string outcome(ToString(record.outcome));
  CloseAttempt(conn, id, attempt, false, outcome, record.sender, record.error, record.provider_ref, now_ms);
  upd.bind(":outcome", outcome);
  upd.bind(":retry_at", retry_at_ms);
  BindOptText(upd, ":ref", record.provider_ref);
  BindOptText(upd, ":error", record.error);
  upd.bind(":now", now_ms);
  upd.bind(":id", id);
  upd.bind(":attempt", attempt);
  return upd.exec() == 1;
}

OutboxRepository::Delivery OutboxRepository::RecordDelivery(Connection& conn, const Receipt& receipt,
                                                            std::int64_t now_ms) {
  const auto& provider_ref = receipt.provider_ref;
  std::optional<OutboxMessage> msg;
  if (!provider_ref.empty() && !receipt.recipient.empty()) {
    // The recipient's messages finished within the window, and those not finished (an unknown one
    // may have learnt its reference from a lookup): not an index of references, which every send
    // would write at a random place.
    auto& q = conn.Prepare(
        "SELECT id FROM outbox INDEXED BY outbox_recipient WHERE channel = :channel AND recipient = :recipient "
        "AND finished_at >= :since AND provider_ref = :ref "
        "UNION ALL "
        "SELECT id FROM outbox INDEXED BY outbox_recipient WHERE channel = :channel AND recipient = :recipient "
        "AND finished_at IS NULL AND provider_ref = :ref "
        "LIMIT 1");
    q.bind(":channel", receipt.channel);
    q.bind(":recipient", receipt.recipient);
    q.bind(":since", now_ms - kReceiptWindowMs);
    q.bind(":ref", provider_ref);
    if (q.executeStep()) msg = Find(conn, q.getColumn(0).getInt64());
    q.reset();
  }
  if (!msg && receipt.id) msg = Find(conn, *receipt.id);
  if (!msg) {
    const bool may_be_pending_send =
        !receipt.recipient.empty() && AwaitingReference(conn, receipt.channel, receipt.recipient);
    return may_be_pending_send ? Delivery::kInFlight : Delivery::kIgnored;
  }
  // A receipt can overtake the send's own answer by milliseconds.
  if (msg->status == "sending") return Delivery::kInFlight;
  if (msg->status == "unknown") {
    // The receipt is the proof the lost attempt reached the provider.
    Resolve(conn, msg->id, msg->attempts, Recovery::kWasSent, provider_ref, "sent", now_ms, now_ms);
  } else if (msg->status != "sent") {
    return Delivery::kIgnored;
  }
  auto& upd = conn.Prepare(
      "UPDATE outbox SET status = :status, last_error = :error, updated_at = :now, "
      "  provider_ref = COALESCE(provider_ref, :ref) "
      "WHERE id = :id AND status = 'sent'");
  upd.bind(":status", receipt.delivered ? "delivered" : "failed");
  BindOptText(upd, ":error", receipt.delivered ? std::string() : "not delivered: " + receipt.reason);
  upd.bind(":now", now_ms);
  BindOptText(upd, ":ref", provider_ref);
  upd.bind(":id", msg->id);
  if (upd.exec() != 1) return Delivery::kIgnored;
  if (!receipt.delivered) EnqueueFallback(conn, msg->id, now_ms);
  return Delivery::kRecorded;
}

std::vector<std::int64_t> OutboxRepository::SentTimes(Connection& conn, std::string_view channel,
                                                      std::string_view recipient, std::int64_t since_ms,
                                                      std::int64_t now_ms, std::int64_t except_id,
                                                      const std::vector<std::string>& kinds, bool only_kinds) {
  // Two ranges of the recipient's index entries: finished since `since` (a sent message's time is
  // when it finished), and not finished (in flight, or unknown since updated_at). The kinds are
  // told apart here: a recipient has a handful of rows in a day, and a list in SQL would be built
  // again at each call.
  auto& q = conn.Prepare(
      "SELECT finished_at AS at, kind FROM outbox INDEXED BY outbox_recipient "
      "WHERE channel = :channel AND recipient = :recipient AND finished_at > :since AND id != :except "
      "  AND (status = 'sent' OR status = 'delivered') "
      "UNION ALL "
      "SELECT updated_at, kind FROM outbox INDEXED BY outbox_recipient "
      "WHERE channel = :channel AND recipient = :recipient AND finished_at IS NULL AND updated_at > :since "
      "  AND id != :except "
      // Messages claimed in this same transaction count in id order, so that of several claimed
      // together only as many as the cap allows pass, whatever order they are checked in.
      "  AND (status = 'unknown' OR status = 'sent' OR status = 'delivered' "
      "       OR (status = 'sending' AND (claimed_at < :claimed OR id < :except))) "
      "ORDER BY 1");
  q.bind(":channel", std::string(channel));
  q.bind(":recipient", std::string(recipient));
  q.bind(":since", since_ms);
  q.bind(":except", except_id);
  q.bind(":claimed", now_ms);
  std::vector<std::int64_t> out;
  while (q.executeStep()) {
    const char* kind = q.getColumn(1).getText();
    const bool listed = std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
    if (listed == only_kinds) out.push_back(q.getColumn(0).getInt64());
  }
  q.reset();
  return out;
}

std::vector<OutboxMessage> OutboxRepository::InDoubt(Connection& conn, std::string_view instance,
                                                     std::int64_t stale_before_ms, std::int64_t now_ms, int limit) {
  std::vector<OutboxMessage> out;
  auto& sel = conn.Prepare("SELECT " DUIJIE_OUTBOX_COLUMNS
                           " FROM outbox "
                           "WHERE (status = 'sending' AND (claimed_by IS NOT :instance OR claimed_at < :stale)) "
                           "   OR (status = 'unknown' AND next_attempt_at <= :now) "
                           "ORDER BY id LIMIT :limit");
  sel.bind(":instance", std::string(instance));
  sel.bind(":stale", stale_before_ms);
  sel.bind(":now", now_ms);
  sel.bind(":limit", limit);
  while (sel.executeStep()) out.push_back(ReadMessage(sel));
  return out;
}

bool OutboxRepository::Resolve(Connection& conn, std::int64_t id, int attempt, Recovery recovery,
                               const std::string& provider_ref, std::string_view sent_status, std::int64_t now_ms,
                               std::int64_t recheck_at_ms, std::int64_t give_up_before_ms) {
  const char* outcome = "unknown";
  std::string status = "unknown";
  switch (recovery) {
    case Recovery::kWasSent:
      outcome = "recovered_sent";
      status = std::string(sent_status);
      break;
    case Recovery::kWasLost:
      outcome = "recovered_lost";
      status = "pending";
      break;
    case Recovery::kStillUnknown:
      if (give_up_before_ms > 0) {
        // Unknown for too long: stop asking and give it to a human, but never resend it.
        // A send lost in a crash has no attempt row yet: it started when it was claimed.
        auto& started = conn.Prepare(
            "SELECT COALESCE((SELECT started_at FROM outbox_attempts WHERE outbox_id = :id AND attempt = :attempt), "
            "                (SELECT claimed_at FROM outbox WHERE id = :id))");
        started.bind(":id", id);
        started.bind(":attempt", attempt);
        if (started.executeStep() && !started.getColumn(0).isNull() &&
            started.getColumn(0).getInt64() < give_up_before_ms) {
          status = "dead";
          outcome = "unknown";
        }
        started.reset();
      }
      break;
  }
  auto& upd = conn.Prepare(
      "UPDATE outbox SET status = :status, "
      "  provider_ref = COALESCE(:ref, provider_ref), "
      "  next_attempt_at = CASE :status WHEN 'pending' THEN :now WHEN 'unknown' THEN :recheck "
      "                    ELSE next_attempt_at END, "
      // A message still unknown keeps the time its outcome was lost: lookups measure from it.
      "  claimed_by = NULL, claimed_at = NULL, "
      "  updated_at = CASE WHEN :status = 'unknown' AND status = 'unknown' THEN updated_at ELSE :now END, "
      "  finished_at = CASE WHEN :status IN ('sent', 'delivered', 'sandbox', 'dead') THEN :now END, "
      "  last_error = CASE :status WHEN 'unknown' THEN 'outcome unknown; checking with the provider' "
      "               WHEN 'dead' THEN 'outcome still unknown after the give-up time; not resent' "
      "               ELSE last_error END "
      "WHERE id = :id AND attempts = :attempt AND status IN ('sending', 'unknown')");
  CloseAttempt(conn, id, attempt, true, outcome, "", "", provider_ref, now_ms);
  upd.bind(":status", status);
  BindOptText(upd, ":ref", provider_ref);
  upd.bind(":now", now_ms);
  upd.bind(":recheck", recheck_at_ms);
  upd.bind(":id", id);
  upd.bind(":attempt", attempt);
  return upd.exec() == 1;
}

bool OutboxRepository::HasDue(Connection& conn, std::string_view channel, std::int64_t now_ms) {
  auto& sel = conn.Prepare(
      "SELECT 1 FROM outbox WHERE status = 'pending' AND channel = :channel AND next_attempt_at <= :now LIMIT 1");
  sel.bind(":channel", std::string(channel));
  sel.bind(":now", now_ms);
  return sel.executeStep();
}

std::optional<OutboxMessage> OutboxRepository::Find(Connection& conn, std::int64_t id) {
  auto& sel = conn.Prepare("SELECT " DUIJIE_OUTBOX_COLUMNS " FROM outbox WHERE id = :id");
  sel.bind(":id", id);
  if (!sel.executeStep()) return std::nullopt;
  return ReadMessage(sel);
}

std::vector<OutboxMessage> OutboxRepository::Recent(Connection& conn, int limit, std::optional<std::string> status) {
  std::vector<OutboxMessage> out;
  auto& sel = conn.Prepare("SELECT " DUIJIE_OUTBOX_COLUMNS
                           " FROM outbox WHERE (:status IS NULL OR status = :status) ORDER BY id DESC LIMIT :limit");
  if (status) {
    sel.bind(":status", *status);
  } else {
    sel.bind(":status");
  }
  sel.bind(":limit", limit);
  while (sel.executeStep()) out.push_back(ReadMessage(sel));
  return out;
}

std::vector<OutboxAttempt> OutboxRepository::Attempts(Connection& conn, std::int64_t id) {
  std::vector<OutboxAttempt> out;
  // The attempt in flight has no row until it ends (CloseAttempt): the message says it.
  auto& sel = conn.Prepare(
      "SELECT attempt, COALESCE(sender, ''), outcome, error, provider_ref, started_at, finished_at "
      "FROM outbox_attempts WHERE outbox_id = :id "
      "UNION ALL "
      "SELECT attempts, '', 'in_flight', NULL, NULL, claimed_at, NULL FROM outbox WHERE id = :id "
      "  AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM outbox_attempts a "
      "                                         WHERE a.outbox_id = outbox.id AND a.attempt = outbox.attempts) "
      "ORDER BY 1");
  sel.bind(":id", id);
  while (sel.executeStep()) {
    OutboxAttempt a;
    a.attempt = sel.getColumn(0).getInt();
    a.sender = sel.getColumn(1).getString();
    a.outcome = sel.getColumn(2).getString();
    a.error = OptText(sel.getColumn(3));
    a.provider_ref = OptText(sel.getColumn(4));
    a.started_at = sel.getColumn(5).getInt64();
    if (!sel.getColumn(6).isNull()) a.finished_at = sel.getColumn(6).getInt64();
    out.push_back(std::move(a));
  }
  return out;
}

std::map<std::string, std::int64_t> OutboxRepository::CountByStatus(Connection& conn) {
  std::map<std::string, std::int64_t> out;
  auto& sel = conn.Prepare("SELECT status, count(*) FROM outbox GROUP BY status");
  while (sel.executeStep()) out[sel.getColumn(0).getString()] = sel.getColumn(1).getInt64();
  return out;
}

std::optional<std::int64_t> OutboxRepository::NextDue(Connection& conn) {
  // Named: without statistics the planner would take outbox_status and walk every waiting row.
  auto& sel = conn.Prepare(
      "SELECT min(next_attempt_at) FROM outbox INDEXED BY outbox_next_due WHERE status IN ('pending', 'unknown')");
  if (!sel.executeStep() || sel.getColumn(0).isNull()) return std::nullopt;
  return sel.getColumn(0).getInt64();
}

}  // namespace duijie::store
