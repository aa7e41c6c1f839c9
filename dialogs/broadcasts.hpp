#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "dialogs/audiences.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/staff.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// Rules every broadcast follows (config `broadcast.*`).
struct BroadcastPolicy {
  std::vector<std::string> channel_order{"wecom", "sms", "email"};  // a person's preferred channel goes first
  int max_per_person_per_day = 3;  // broadcasts reaching one person in 24 h; more are skipped ('capped')
  int default_ack_minutes = 24 * 60;
  // Messages of one broadcast waiting in the outbox at most: the rest of its people are planned
  // as these go out, so a broadcast to a million never floods the outbox, a cancel has little to
  // call back, and opt-outs and caps are read close to the sending. 0: no limit.
  int window = 20'000;
};

/// What a staff member asks for (POST /api/v1/broadcasts, `duijie broadcast create`, the staff
/// chat on WeCom):
///   {"title": "...", "audience": {...} | "audience_id": 3,
///    "message": {"text": "…{name}…", "title": "…"} | "template": "<catalogue key>", "vars": {...},
///    "ack": true | {"within_minutes": 720}, "channels": ["wecom", "sms", "email"],
///    "send_at": "now" | "2026-12-01T09:00:00+08:00"}        (no send_at: a draft)
/// The same idempotency key with the same request answers the broadcast made the first time;
/// with a different request it is refused (kConflict). Texts may use {name} and the keys of
/// "vars"; any other placeholder, an empty text, a link (SMS carries none) is refused by name.
struct BroadcastCreated {
  nlohmann::json body;
  bool created = false;  // false: the idempotency key named an existing broadcast
};
[[nodiscard]] Result<BroadcastCreated> CreateBroadcast(store::Connection& c, const Programme& programme,
                                                       const Catalogue& catalogue, const Staff& staff,
                                                       const nlohmann::json& request,
                                                       const std::optional<std::string>& idempotency_key,
                                                       Clock::TimePoint now, std::string_view kind = "manual");

/// A draft is sent now or at `send_at` (same forms as in the request).
[[nodiscard]] Result<nlohmann::json> SendBroadcast(store::Connection& c, const Staff& staff, std::int64_t id,
                                                   const nlohmann::json& request, Clock::TimePoint now);
/// Stops a broadcast: nobody not yet reached is, and messages still waiting are cancelled (one
/// already handed to a provider cannot be called back). Cancelling twice is not an error.
[[nodiscard]] Result<nlohmann::json> CancelBroadcast(store::Connection& c, const Staff& staff, std::int64_t id,
                                                     Clock::TimePoint now);
/// The broadcast with its progress (recipients by state, messages by state).
[[nodiscard]] Result<nlohmann::json> GetBroadcast(store::Connection& c, std::int64_t id);
[[nodiscard]] nlohmann::json ListBroadcasts(store::Connection& c, int limit);
/// Delivery report: per channel, messages queued / sent / delivered / failed (with the reasons)
/// and people acknowledged / opted out / skipped.
[[nodiscard]] Result<nlohmann::json> BroadcastReport(store::Connection& c, std::int64_t id);
/// One row per person (addresses masked), as CSV with a header.
[[nodiscard]] Result<std::string> BroadcastReportCsv(store::Connection& c, std::int64_t id);
/// The message as `person_id` would get it on each of their channels, without sending anything.
[[nodiscard]] Result<nlohmann::json> PreviewBroadcast(store::Connection& c, const Catalogue& catalogue,
                                                      const BroadcastPolicy& policy, std::int64_t id,
                                                      std::int64_t person_id);

/// A template (saved or of the catalogue) as `person_id` would get it in a broadcast with these
/// `vars` (and, with `ack`, asking for acknowledgement), on each of their channels.
[[nodiscard]] Result<nlohmann::json> PreviewTemplate(store::Connection& c, const Catalogue& catalogue,
                                                     const BroadcastPolicy& policy, std::string_view name,
                                                     std::int64_t person_id, const nlohmann::json& vars, bool ack);

/// One round of the broadcast worker, in the caller's transaction:
/// - a scheduled broadcast that is due takes its audience (people fixed at this moment) and
///   starts sending;
/// - up to `limit` people not yet reached get their message on their first channel (opted-out
///   addresses skipped, caps applied), as long as the broadcast has fewer than `policy.window`
///   messages waiting; without acknowledgement the other addresses are the outbox's fallback on
///   failure;
/// - with acknowledgement, a person who has not acknowledged when the time is up (or whose
///   message failed) gets it on their next channel; the last channel's time up closes them;
/// - a broadcast with nothing left to do is done.
struct BroadcastRound {
  int started = 0;
  int planned = 0;    // messages queued
  int skipped = 0;    // people with no reachable address, opted out, or capped
  int escalated = 0;  // next-channel messages after no acknowledgement
  int finished = 0;
  bool more = false;  // there is planning left that may run now: run again at once
  [[nodiscard]] bool Queued() const { return planned + escalated > 0; }
};
[[nodiscard]] BroadcastRound RunBroadcasts(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                                           const BroadcastPolicy& policy, Clock::TimePoint now, int limit);

/// Whether `text` (a reply on any channel) acknowledges a reminder: 1, 确认, 收到, 已收到, ok …
[[nodiscard]] bool IsAcknowledgement(std::string_view text);
/// Takes an acknowledgement from `person_id`: of broadcast `broadcast_id` (a card button), else
/// of their latest broadcast still waiting for one. Closes it on every channel (messages not yet
/// sent are cancelled, no next channel follows) and returns the thanks; nullopt when nothing was
/// waiting (the text goes to the conversation).
[[nodiscard]] std::optional<std::string> AcknowledgeBroadcast(store::Connection& c, const Catalogue& catalogue,
                                                              std::int64_t person_id, const std::string& locale,
                                                              std::optional<std::int64_t> broadcast_id,
                                                              std::string_view channel, Clock::TimePoint now);

/// The key of a reminder card's button ("ack:<broadcast id>") and back.
[[nodiscard]] std::string AckButtonKey(std::int64_t broadcast_id);
[[nodiscard]] std::optional<std::int64_t> ParseAckButtonKey(std::string_view key);

}  // namespace duijie::dialogs
