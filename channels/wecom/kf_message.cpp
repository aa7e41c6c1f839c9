#include "channels/wecom/kf_message.hpp"

#include "channels/wecom/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

std::string Capped(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return std::string(TruncateUtf8(it->get_ref<const std::string&>(), kMaxFieldBytes));
}

// A number WeCom sends; anything else (a string, a float out of range) reads as 0 rather than
// stopping the whole page.
std::int64_t Number(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

Result<KfPage> ParseSyncAnswer(const json& answer) {
  if (!answer.is_object() || !answer.contains("msg_list") || !answer["msg_list"].is_array()) {
    return Error(Errc::kInvalidArgument, "sync_msg answer without msg_list");
  }
  KfPage page;
  page.next_cursor = Capped(answer, "next_cursor");
  page.has_more = Number(answer, "has_more") != 0;
  for (const auto& item : answer["msg_list"]) {
    if (!item.is_object()) continue;
    KfMessage m;
    m.msgid = Capped(item, "msgid");
    if (m.msgid.empty()) continue;
    m.open_kfid = Capped(item, "open_kfid");
    m.external_userid = Capped(item, "external_userid");
    m.send_time = Number(item, "send_time");
    m.origin = static_cast<int>(Number(item, "origin"));
    m.msgtype = Capped(item, "msgtype");
    const auto body = item.find(m.msgtype);
    if (body != item.end() && body->is_object()) {
      if (m.msgtype == "text") m.text = Capped(*body, "content");
      m.media_id = Capped(*body, "media_id");
      if (m.msgtype == "event") {
        m.event_type = Capped(*body, "event_type");
        m.welcome_code = Capped(*body, "welcome_code");
        // Events name the customer inside the event body.
        if (m.external_userid.empty()) m.external_userid = Capped(*body, "external_userid");
        if (m.open_kfid.empty()) m.open_kfid = Capped(*body, "open_kfid");
      }
    }
    page.messages.push_back(std::move(m));
  }
  return page;
}

std::string KfAddress(std::string_view open_kfid, std::string_view external_userid) {
  return std::string(open_kfid) + "/" + std::string(external_userid);
}

std::optional<std::pair<std::string, std::string>> SplitKfAddress(std::string_view address) {
  const auto slash = address.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == address.size() ||
      address.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{std::string(address.substr(0, slash)), std::string(address.substr(slash + 1))};
}

std::optional<dialogs::InboundEvent> ToInboundEvent(const KfMessage& msg) {
  if (msg.external_userid.empty() || msg.open_kfid.empty()) return std::nullopt;
  dialogs::InboundEvent e;
  e.channel = std::string(kKfChannel);
  e.sender = KfAddress(msg.open_kfid, msg.external_userid);
  if (msg.origin == 4 && msg.msgtype == "event") {
    e.kind = "event";
    // enter_session is the customer opening the chat: the dialogs greet as for subscribe.
    e.event = msg.event_type == "enter_session" ? "enter_agent" : msg.event_type;
    return e;
  }
  if (msg.origin != 3) return std::nullopt;
  if (msg.msgtype == "text") {
    e.kind = "text";
    e.text = msg.text;
  } else if (msg.msgtype == "image" || msg.msgtype == "voice" || msg.msgtype == "video" || msg.msgtype == "file") {
    e.kind = "file";
    e.text = msg.media_id;
  } else {
    e.kind = "unknown";
    e.text = msg.msgtype;
  }
  return e;
}

}  // namespace duijie::channels::wecom
