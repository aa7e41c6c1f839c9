#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// A researcher the push plan chose for a need, with why (the matcher's explanation).
struct PushCandidate {
  std::int64_t researcher = 0;  // person id
  double score = 0;
  std::vector<std::string> terms;
  std::string shared_field;
};

/// The key of a push card's button ("push:<id>:accept" / "push:<id>:decline") and back.
[[nodiscard]] std::string PushButtonKey(std::int64_t push_id, bool accept);
[[nodiscard]] std::optional<std::pair<std::int64_t, bool>> ParsePushButtonKey(std::string_view key);

/// Published needs whose pushes have not been planned yet, oldest first.
[[nodiscard]] std::vector<std::int64_t> NeedsToPush(store::Connection& conn, int limit);

/// The pushes of published need `need_id`, in the caller's transaction: one push row per
/// candidate (status 'sent', a reply code none of the researcher's open pushes has) and one
/// message each on the researcher's preferred channel — SMS by default (the match_push
/// template), else email, else WeCom — with their other addresses as fallback; the need's round
/// recorded so it is planned once. Nothing happens (empty result) if the round is done or the
/// need is no longer published.
[[nodiscard]] std::vector<store::NewOutboxMessage> CreatePushes(store::Connection& conn, const Programme& programme,
                                                                const Catalogue& catalogue, std::int64_t need_id,
                                                                std::span<const PushCandidate> candidates,
                                                                Random& random, Clock::TimePoint now);

/// Several match pushes waiting for one SMS number (held by quiet hours or the hourly cap) go
/// out as one message: `msg`, claimed now, becomes the match_digest listing up to `max` pushes,
/// each with its title and reply code, and the others it carries are merged into it (see
/// `OutboxRepository::Merge`). The digest's text, for a fallback to mail or WeCom, holds every
/// push's own text. Other messages, and `max` below 2, are left as they are.
void CoalescePushes(store::Connection& conn, const Catalogue& catalogue, store::OutboxMessage& msg, std::int64_t now_ms,
                    int max);

struct FollowUps {
  std::vector<store::NewOutboxMessage> reminders;
  int closed = 0;
};
/// Pushes still unanswered: `remind_after` their sending, one reminder on the channel the push
/// went out on; `close_after` it, the push closes as 'unanswered' (the researcher's capacity and
/// weekly count free again).
[[nodiscard]] FollowUps FollowUpPushes(store::Connection& conn, const Catalogue& catalogue, Clock::TimePoint now,
                                       std::chrono::hours remind_after, std::chrono::hours close_after);

}  // namespace duijie::dialogs
