#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dialogs/catalogue.hpp"
#include "dialogs/conversations.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// One mail a person sent, after the channel found whose conversation it continues.
struct EmailIn {
  std::string address;  // the conversation's address (token, thread or sender), lower-case
  std::string text;     // what the person wrote: quotes and signature stripped
  std::string subject;
  std::string message_id;                // to thread our answer under it
  std::vector<std::string> references;   // the mail's own References
  std::string key;                       // the inbox key: makes the answers' idempotency keys
  std::vector<std::string> attachments;  // documents kept (sha256)
};

enum class EmailRoute { kUnsubscribed, kAlreadyUnsubscribed, kPushAnswered, kAcknowledged, kConversation };

struct EmailResult {
  EmailRoute route = EmailRoute::kConversation;
  std::vector<store::NewOutboxMessage> outbox;  // one answer by mail, threaded under the mail
};

/// The business side of a mail, in the caller's (inbox) transaction: a reply that only says
/// 退订 / unsubscribe stops email to the address (other channels still work); 1 / 2 (and their
/// synonyms, with or without the code) answer an open push as by SMS; anything else is a
/// conversation message. Answers go in one mail threaded under it ("Re: subject").
EmailResult ProcessEmail(store::Connection& conn, const Conversations& conversations, const Catalogue& catalogue,
                         const EmailIn& mail, Clock::TimePoint now);

/// Stops email to `address` (a one-click unsubscribe, a mailto unsubscribe, an 退订 reply):
/// suppressed by address, the person's email consent opted out. False if it was already.
bool UnsubscribeEmail(store::Connection& conn, const std::string& address, const std::string& source,
                      Clock::TimePoint now);

/// Thrown by ProcessBounce when the bounced message's send is still being recorded: the
/// transaction must be undone and the bounce taken again later (answer the sender "retry").
struct BounceTooEarly : std::runtime_error {
  BounceTooEarly() : std::runtime_error("a bounce arrived before its message's send was recorded") {}
};

/// A permanent bounce (RFC 3464, 5.x.x) for our message `outbox_id` (if known) to `recipient`:
/// the message is failed (its fallback queued) and email to the address suppressed. Returns
/// whether anything changed.
bool ProcessBounce(store::Connection& conn, std::optional<std::int64_t> outbox_id, const std::string& recipient,
                   const std::string& status, Clock::TimePoint now);

/// Whether a reply only asks to stop email (退订, 取消订阅, unsubscribe, TD …).
[[nodiscard]] bool IsEmailUnsubscribe(std::string_view text);

}  // namespace duijie::dialogs
