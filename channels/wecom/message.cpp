#include "channels/wecom/message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "channels/wecom/crypto.hpp"
#include <pugixml.hpp>

namespace duijie::channels::wecom {
namespace {

constexpr std::size_t kMaxTextBytes = 2048;

Error ParseError(std::string detail) {
  return Error(make_error_code(CryptoErrc::kParseXml), "malformed callback XML: " + std::move(detail));
}

// Parses without DOCTYPE processing: pugixml never expands external entities, so XXE and
// entity-expansion bombs have nothing to work with.
Result<pugi::xml_document> Load(std::string_view text) {
  pugi::xml_document doc;
  const auto res =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default & ~pugi::parse_doctype, pugi::encoding_utf8);
  if (!res) return ParseError(res.description());
  if (!doc.child("xml")) return ParseError("no <xml> root");
  return doc;
}

// Reads a child's text into `out`; false when it is larger than a field may be.
bool Field(const pugi::xml_node& root, const char* name, std::string& out) {
  const char* value = root.child(name).child_value();
  const std::size_t len = std::char_traits<char>::length(value);
  if (len > kMaxFieldBytes) return false;
  out.assign(value, len);
  return true;
}

void AppendCdata(std::string& out, std::string_view text) {
  // "]]>" cannot appear inside one CDATA section: split it across two.
  out += "<![CDATA[";
  std::size_t pos = 0;
  for (;;) {
    const auto hit = text.find("]]>", pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos + 2));
    out += "]]><![CDATA[";
    pos = hit + 2;
  }
  out.append(text.substr(pos));
  out += "]]>";
}

// <xml><ToUserName/><FromUserName/><CreateTime/><MsgType/>, the part every plaintext shares.
std::string Head(std::string_view to, std::string_view from, std::int64_t create_time, std::string_view type) {
  std::string xml = "<xml><ToUserName>";
  AppendCdata(xml, to);
  xml += "</ToUserName><FromUserName>";
  AppendCdata(xml, from);
  xml += "</FromUserName><CreateTime>" + std::to_string(create_time) + "</CreateTime><MsgType>";
  AppendCdata(xml, type);
  xml += "</MsgType>";
  return xml;
}

}  // namespace

std::string_view TruncateUtf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Step back over continuation bytes to the start of the character that would be cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

Result<std::string> ParseEnvelope(std::string_view body) {
  auto doc = Load(body);
  if (!doc) return doc.error();
  std::string encrypt;
  if (!Field(doc->child("xml"), "Encrypt", encrypt)) {
    // The ciphertext may legitimately exceed one plaintext field's limit.
    encrypt = doc->child("xml").child("Encrypt").child_value();
  }
  if (encrypt.empty()) return ParseError("no <Encrypt>");
  return encrypt;
}

Result<ReplyEnvelope> ParseReplyEnvelope(std::string_view body) {
  auto doc = Load(body);
  if (!doc) return doc.error();
  const auto root = doc->child("xml");
  ReplyEnvelope r{root.child("Encrypt").child_value(), root.child("MsgSignature").child_value(),
                  root.child("TimeStamp").child_value(), root.child("Nonce").child_value()};
  if (r.encrypt.empty() || r.signature.empty()) return ParseError("reply without Encrypt or MsgSignature");
  return r;
}

std::string TextMessagePlaintext(std::string_view corp_id, std::string_view user, std::string_view text,
                                 std::int64_t create_time, std::uint64_t msg_id, std::string_view agent_id) {
  std::string xml = Head(corp_id, user, create_time, "text");
  xml += "<Content>";
  AppendCdata(xml, text);
  xml +=
      "</Content><MsgId>" + std::to_string(msg_id) + "</MsgId><AgentID>" + std::string(agent_id) + "</AgentID></xml>";
  return xml;
}

std::string EventPlaintext(std::string_view corp_id, std::string_view user, std::string_view event,
                           std::string_view event_key, std::int64_t create_time, std::string_view agent_id) {
  std::string xml = Head(corp_id, user, create_time, "event");
  xml += "<Event>";
  AppendCdata(xml, event);
  xml += "</Event><EventKey>";
  AppendCdata(xml, event_key);
  xml += "</EventKey><AgentID>" + std::string(agent_id) + "</AgentID></xml>";
  return xml;
}

Result<CallbackMessage> ParsePlaintext(std::string_view xml) {
  auto doc = Load(xml);
  if (!doc) return doc.error();
  const auto root = doc->child("xml");
  CallbackMessage m;
  std::string create_time;
  const bool ok = Field(root, "ToUserName", m.to_user) && Field(root, "FromUserName", m.from_user) &&
                  Field(root, "CreateTime", create_time) && Field(root, "MsgType", m.msg_type) &&
                  Field(root, "MsgId", m.msg_id) && Field(root, "AgentID", m.agent_id) &&
                  Field(root, "Content", m.content) && Field(root, "MediaId", m.media_id) &&
                  Field(root, "PicUrl", m.pic_url) && Field(root, "Title", m.title) && Field(root, "Url", m.url) &&
                  Field(root, "Label", m.location_label) && Field(root, "Location_X", m.latitude) &&
                  Field(root, "Location_Y", m.longitude) && Field(root, "Event", m.event) &&
                  Field(root, "EventKey", m.event_key) && Field(root, "TaskId", m.task_id) &&
                  Field(root, "ResponseCode", m.response_code) && Field(root, "ChangeType", m.change_type) &&
                  Field(root, "Token", m.token) && Field(root, "OpenKfId", m.open_kf_id);
  if (!ok) return ParseError("a field is larger than " + std::to_string(kMaxFieldBytes) + " bytes");
  if (m.from_user.empty() || m.msg_type.empty()) return ParseError("FromUserName and MsgType are required");
  if (!create_time.empty()) {
    const auto [ptr, ec] = std::from_chars(create_time.data(), create_time.data() + create_time.size(), m.create_time);
    if (ec != std::errc{} || ptr != create_time.data() + create_time.size()) return ParseError("CreateTime");
  }
  if (m.latitude.empty()) Field(root, "Latitude", m.latitude);  // LOCATION event spelling
  if (m.longitude.empty()) Field(root, "Longitude", m.longitude);
  // Events arrive in MP style (CLICK) as well as lower case; compare in one case.
  std::transform(m.event.begin(), m.event.end(), m.event.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return m;
}

std::string DedupeKey(const CallbackMessage& msg) {
  if (!msg.msg_id.empty()) return "msg:" + msg.msg_id;
  // FromUserName + CreateTime alone collides for distinct same-second events (WxJava #1745).
  std::string key = "event:" + msg.agent_id + ":" + msg.from_user + ":" + std::to_string(msg.create_time) + ":" +
                    msg.event + ":" + msg.event_key + ":" + msg.task_id + ":" + msg.change_type + ":" +
                    msg.response_code + ":" + msg.token;
  return key;
}

dialogs::InboundEvent ToInboundEvent(const CallbackMessage& msg) {
  dialogs::InboundEvent e;
  e.channel = "wecom";
  e.sender = msg.from_user;
  if (msg.msg_type == "text") {
    e.kind = "text";
    e.text = msg.content;
  } else if (msg.msg_type == "event") {
    e.kind = "event";
    e.event = msg.event;
    e.text = msg.event_key;
  } else if (msg.msg_type == "location") {
    e.kind = "location";
    e.text = msg.location_label;
  } else if (msg.msg_type == "link") {
    e.kind = "link";
    e.text = msg.url;
  } else if (msg.msg_type == "image" || msg.msg_type == "voice" || msg.msg_type == "video" || msg.msg_type == "file") {
    e.kind = "file";
    e.text = msg.media_id;
  } else {
    e.kind = "unknown";
    e.text = msg.msg_type;
  }
  return e;
}

std::string TextReplyPlaintext(const CallbackMessage& msg, std::string_view content, std::int64_t create_time) {
  // The roles swap in a reply: to the member, from the corp.
  std::string xml = Head(msg.from_user, msg.to_user, create_time, "text");
  xml += "<Content>";
  AppendCdata(xml, TruncateUtf8(content, kMaxTextBytes));
  xml += "</Content></xml>";
  return xml;
}

std::optional<dialogs::OutboundMessage> CardUpdateAfterClick(const CallbackMessage& msg, std::string replace_name) {
  if (msg.msg_type != "event" || msg.event != "template_card_event" || msg.response_code.empty()) return std::nullopt;
  dialogs::OutboundMessage update;
  update.kind = "card_update";
  update.params = {{"response_code", msg.response_code}, {"replace_name", std::move(replace_name)}};
  return update;
}

}  // namespace duijie::channels::wecom
