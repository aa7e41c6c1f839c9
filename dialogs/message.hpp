#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace duijie::dialogs {

/// What a person sent, after a channel verified and parsed it: no provider format survives here.
struct InboundEvent {
  std::string channel;  // 'wecom', 'sms', 'email'
  std::string sender;   // channel address (userid, E.164 mobile, email)
  std::string kind;     // 'text', 'choice', 'file', 'event', 'status'
  std::string text;
  std::optional<std::string> event;      // e.g. 'subscribe', 'click'
  std::optional<std::string> reply_to;   // provider reference of the message answered, if known
  std::vector<std::string> attachments;  // document ids
};

/// What duijie sends, before a channel renders it in its provider's format. Stored as the outbox
/// row's payload.
struct OutboundMessage {
  std::string kind;  // 'text', 'markdown', 'card', 'template'
  std::string text;
  std::optional<std::string> title;
  std::optional<std::string> template_id;  // message catalogue or provider template key
  nlohmann::json params = nlohmann::json::object();
};

/// A plain text message.
[[nodiscard]] inline OutboundMessage TextMessage(std::string text) {
  return {"text", std::move(text), std::nullopt, std::nullopt, nlohmann::json::object()};
}

void to_json(nlohmann::json& j, const InboundEvent& e);       // NOLINT(readability-identifier-naming): ADL
void from_json(const nlohmann::json& j, InboundEvent& e);     // NOLINT(readability-identifier-naming)
void to_json(nlohmann::json& j, const OutboundMessage& m);    // NOLINT(readability-identifier-naming)
void from_json(const nlohmann::json& j, OutboundMessage& m);  // NOLINT(readability-identifier-naming)

}  // namespace duijie::dialogs
