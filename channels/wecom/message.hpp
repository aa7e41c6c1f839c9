#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {

/// The decrypted plaintext of an app callback (spec §3): an ordinary message or an event.
struct CallbackMessage {
  std::string to_user;    // CorpID
  std::string from_user;  // member UserID
  std::int64_t create_time = 0;
  std::string msg_type;  // text, image, voice, video, location, link, event, or anything new
  std::string msg_id;    // 64-bit, kept as text; empty for events
  std::string agent_id;
  std::string content;   // text
  std::string media_id;  // image, voice, video
  std::string pic_url;
  std::string title;  // link
  std::string url;    // link
  std::string location_label;
  std::string latitude;
  std::string longitude;
  std::string event;  // lower-cased
  std::string event_key;
  std::string task_id;        // template_card_event
  std::string response_code;  // template_card_event
  std::string change_type;    // change_contact
  std::string token;          // kf_msg_or_event: lets kf/sync_msg pull without the strict limit (10 min)
  std::string open_kf_id;     // kf_msg_or_event: the customer-service account
};

/// Largest value accepted for any single field of the plaintext.
inline constexpr std::size_t kMaxFieldBytes = std::size_t{16} * 1024;

/// The parts of an encrypted passive reply, as WeCom (or `duijie chat`) reads it.
struct ReplyEnvelope {
  std::string encrypt;
  std::string signature;
  std::string timestamp;
  std::string nonce;
};
[[nodiscard]] Result<ReplyEnvelope> ParseReplyEnvelope(std::string_view body);

/// The plaintext WeCom would send for a member's text message (for `duijie chat` and tests).
[[nodiscard]] std::string TextMessagePlaintext(std::string_view corp_id, std::string_view user, std::string_view text,
                                               std::int64_t create_time, std::uint64_t msg_id,
                                               std::string_view agent_id);
/// The plaintext of an event (subscribe, enter_agent, click with a key, ...).
[[nodiscard]] std::string EventPlaintext(std::string_view corp_id, std::string_view user, std::string_view event,
                                         std::string_view event_key, std::int64_t create_time,
                                         std::string_view agent_id);

/// The Encrypt value of the POST envelope <xml><ToUserName/><Encrypt/><AgentID/></xml>.
[[nodiscard]] Result<std::string> ParseEnvelope(std::string_view body);
/// Parses the decrypted plaintext. Unknown message types and events parse fine (msg_type and
/// event say what they are); malformed XML, a missing FromUserName/MsgType or an oversized field
/// is an error.
[[nodiscard]] Result<CallbackMessage> ParsePlaintext(std::string_view xml);

/// The inbox key that makes a redelivery recognisable (spec §7.2): the MsgId for messages;
/// for events a composite that does not over-match distinct events in the same second.
[[nodiscard]] std::string DedupeKey(const CallbackMessage& msg);

/// The neutral event the dialogs see.
[[nodiscard]] dialogs::InboundEvent ToInboundEvent(const CallbackMessage& msg);

/// Plaintext of a passive text reply to `msg` (roles swapped: to the member, from the corp).
/// `content` is cut to WeCom's 2048-byte limit on a UTF-8 boundary.
[[nodiscard]] std::string TextReplyPlaintext(const CallbackMessage& msg, std::string_view content,
                                             std::int64_t create_time);

/// After a member clicks a button of an interactive template card, WeCom leaves the buttons live
/// until the card is updated with the click's ResponseCode (spec §4.6, usable once, 72 h): the
/// card_update that greys them out with `replace_name`. Nothing for any other callback.
[[nodiscard]] std::optional<dialogs::OutboundMessage> CardUpdateAfterClick(const CallbackMessage& msg,
                                                                           std::string replace_name);

/// `text` cut to at most `max_bytes` without splitting a UTF-8 character.
[[nodiscard]] std::string_view TruncateUtf8(std::string_view text, std::size_t max_bytes);

}  // namespace duijie::channels::wecom
