#include "dialogs/message.hpp"

namespace duijie::dialogs {
namespace {

template <class T>
void PutOpt(nlohmann::json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <class T>
void GetOpt(const nlohmann::json& j, const char* key, std::optional<T>& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->template get<T>();
}

}  // namespace

void to_json(nlohmann::json& j, const InboundEvent& e) {
  j = nlohmann::json{{"channel", e.channel}, {"sender", e.sender}, {"kind", e.kind}, {"text", e.text}};
  PutOpt(j, "event", e.event);
  PutOpt(j, "reply_to", e.reply_to);
  if (!e.attachments.empty()) j["attachments"] = e.attachments;
}

void from_json(const nlohmann::json& j, InboundEvent& e) {
  j.at("channel").get_to(e.channel);
  j.at("sender").get_to(e.sender);
  j.at("kind").get_to(e.kind);
  e.text = j.value("text", "");
  GetOpt(j, "event", e.event);
  GetOpt(j, "reply_to", e.reply_to);
  e.attachments = j.value("attachments", std::vector<std::string>{});
}

void to_json(nlohmann::json& j, const OutboundMessage& m) {
  j = nlohmann::json{{"kind", m.kind}, {"text", m.text}};
  PutOpt(j, "title", m.title);
  PutOpt(j, "template_id", m.template_id);
  if (!m.params.empty()) j["params"] = m.params;
}

void from_json(const nlohmann::json& j, OutboundMessage& m) {
  j.at("kind").get_to(m.kind);
  m.text = j.value("text", "");
  GetOpt(j, "title", m.title);
  GetOpt(j, "template_id", m.template_id);
  m.params = j.value("params", nlohmann::json::object());
}

}  // namespace duijie::dialogs
