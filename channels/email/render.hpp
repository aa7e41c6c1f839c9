#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channels/email/compose.hpp"
#include "common/error.hpp"
#include "dialogs/catalogue.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::channels::email {

/// How outgoing mail is addressed and threaded.
struct MailSettings {
  Mailbox from;                    // the name empty: the catalogue's email.from_name
  std::string reply_address;       // e.g. reply@inbound.example.cn → Reply-To reply+<token>@…; empty: none
  std::string message_id_domain;   // empty: the From address's domain
  std::string token_secret;        // keys Message-ID tags and reply tokens
  std::string unsubscribe_mailto;  // e.g. unsubscribe@notify.example.cn; empty: no mailto
  std::string public_base_url;     // https://…: one-click unsubscribe at /email/unsubscribe/<token>
  std::string files_dir;           // attachments are read from here only
  std::size_t max_attachment_bytes = 10U << 20U;
};

/// Our Message-ID for outbox message `id`: "duijie.o<id>.<tag>@<domain>", the tag an HMAC of
/// the id, so an inbound In-Reply-To leads back to the message (and its recipient) without a
/// lookup table and cannot be forged.
[[nodiscard]] std::string MessageIdFor(std::int64_t outbox_id, std::string_view secret, std::string_view domain);
/// The same for a gateway's mail settings (their message_id_domain, else the sender's domain).
[[nodiscard]] std::string MessageIdFor(std::int64_t outbox_id, const MailSettings& settings);
[[nodiscard]] std::optional<std::int64_t> OutboxIdOfMessageId(std::string_view message_id, std::string_view secret);

/// The plus-address and unsubscribe token of outbox message `id`: "o<id>-<tag>".
[[nodiscard]] std::string ReplyToken(std::int64_t outbox_id, std::string_view secret);
[[nodiscard]] std::optional<std::int64_t> OutboxIdOfToken(std::string_view token, std::string_view secret);
/// The part after '+' in the local part of `address`, if any.
[[nodiscard]] std::optional<std::string> PlusToken(std::string_view address);

/// Outbox message `msg` (a neutral dialogs::OutboundMessage payload) as mail to its recipient:
/// subject from the title or the catalogue by kind ("Re: …" when it answers a mail), text and
/// HTML bodies with the catalogue's footer, threading headers from params.email_in_reply_to and
/// params.email_references, List-Unsubscribe on everything that is not a conversational reply,
/// attachments from params.attachments ([{filename, content_type, path}] under files_dir).
[[nodiscard]] Result<OutgoingMail> RenderOutbox(const store::OutboxMessage& msg, const MailSettings& settings,
                                                const dialogs::Catalogue& catalogue, std::int64_t now_unix,
                                                std::string boundary_seed);

/// Text as HTML paragraphs, escaped.
[[nodiscard]] std::string TextToHtml(std::string_view text);

}  // namespace duijie::channels::email
