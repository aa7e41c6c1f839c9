#include "channels/wecom/render.hpp"

#include <set>

#include "channels/wecom/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

Error Invalid(std::string what) { return Error(Errc::kInvalidArgument, std::move(what)); }

std::string Cut(std::string_view s, std::size_t max_bytes) { return std::string(TruncateUtf8(s, max_bytes)); }

std::string ParamString(const json& params, const char* key) {
  const auto it = params.find(key);
  return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool IsTaskId(std::string_view id) {
  if (id.empty() || id.size() > kTaskIdBytes) return false;
  for (const char c : id) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

json AppEnvelope(std::string_view touser, std::int64_t agent_id, std::string_view msgtype) {
  return json{{"touser", touser}, {"msgtype", msgtype}, {"agentid", agent_id}};
}

std::vector<ApiCall> SplitInto(std::string_view text, std::size_t limit, std::string_view touser, std::int64_t agent_id,
                               const char* msgtype) {
  std::vector<ApiCall> calls;
  for (auto& piece : SplitUtf8(text, limit)) {
    json body = AppEnvelope(touser, agent_id, msgtype);
    body[msgtype] = {{"content", std::move(piece)}};
    calls.push_back({"/cgi-bin/message/send", std::move(body)});
  }
  return calls;
}

Result<json> Articles(const json& params) {
  const auto it = params.find("articles");
  if (it == params.end() || !it->is_array() || it->empty() || it->size() > kMaxArticles) {
    return Invalid("news needs params.articles: 1 to " + std::to_string(kMaxArticles) + " articles");
  }
  json out = json::array();
  for (const auto& a : *it) {
    if (!a.is_object() || ParamString(a, "title").empty() || ParamString(a, "url").empty()) {
      return Invalid("every article needs a title and a url");
    }
    json article{{"title", Cut(ParamString(a, "title"), kCardTitleBytes)}, {"url", ParamString(a, "url")}};
    if (const auto d = ParamString(a, "description"); !d.empty()) {
      article["description"] = Cut(d, kCardDescriptionBytes);
    }
    if (const auto p = ParamString(a, "picurl"); !p.empty()) article["picurl"] = p;
    out.push_back(std::move(article));
  }
  return out;
}

Result<json> TemplateCard(const dialogs::OutboundMessage& msg) {
  const auto& p = msg.params;
  const std::string task_id = ParamString(p, "task_id");
  if (!IsTaskId(task_id)) {
    return Invalid("template needs params.task_id: 1-128 bytes of [0-9a-zA-Z_-@], e.g. \"need42-review\"");
  }
  const auto buttons = p.find("buttons");
  if (buttons == p.end() || !buttons->is_array() || buttons->empty() || buttons->size() > kMaxButtons) {
    return Invalid("template needs params.buttons: 1 to " + std::to_string(kMaxButtons) + " buttons");
  }
  json card{{"card_type", "button_interaction"},
            {"main_title", {{"title", Cut(msg.title.value_or(""), kCardTitleBytes)}}},
            {"task_id", task_id}};
  if (!msg.text.empty()) card["sub_title_text"] = Cut(msg.text, kCardDescriptionBytes);
  if (const auto source = ParamString(p, "source"); !source.empty()) {
    card["source"] = {{"desc", Cut(source, kCardTitleBytes)}};
  }
  if (const auto fields = p.find("fields"); fields != p.end()) {
    if (!fields->is_array() || fields->size() > kMaxCardFields) {
      return Invalid("params.fields takes at most " + std::to_string(kMaxCardFields) + " {name, value} pairs");
    }
    json list = json::array();
    for (const auto& f : *fields) {
      list.push_back({{"keyname", Cut(ParamString(f, "name"), kCardTitleBytes)},
                      {"value", Cut(ParamString(f, "value"), kCardDescriptionBytes)}});
    }
    card["horizontal_content_list"] = std::move(list);
  }
  std::set<std::string> keys;
  json list = json::array();
  for (const auto& b : *buttons) {
    const std::string key = ParamString(b, "key");
    const std::string text = ParamString(b, "text");
    if (text.empty() || key.empty() || key.size() > kButtonKeyBytes) {
      return Invalid("every button needs a text and a key of at most 1024 bytes");
    }
    if (!keys.insert(key).second) return Invalid("button key \"" + key + "\" is used twice");
    const int style = b.value("style", 1);
    list.push_back({{"text", Cut(text, kCardTitleBytes)}, {"key", key}, {"style", style < 1 || style > 4 ? 1 : style}});
  }
  card["button_list"] = std::move(list);
  return card;
}

}  // namespace

std::vector<std::string> SplitUtf8(std::string_view text, std::size_t max_bytes) {
  std::vector<std::string> pieces;
  if (max_bytes < 4) max_bytes = 4;  // room for any one character
  while (text.size() > max_bytes) {
    std::string_view head = TruncateUtf8(text, max_bytes);
    std::size_t skip = 0;
    if (const auto nl = head.rfind('\n'); nl != std::string_view::npos && nl >= head.size() / 2) {
      head = head.substr(0, nl);
      skip = 1;
    }
    pieces.emplace_back(head);
    text.remove_prefix(head.size() + skip);
  }
  if (!text.empty() || pieces.empty()) pieces.emplace_back(text);
  return pieces;
}

Result<std::vector<ApiCall>> RenderAppMessage(const dialogs::OutboundMessage& msg, std::string_view touser,
                                              std::int64_t agent_id) {
  if (msg.kind == "text") return SplitInto(msg.text, kAppTextBytes, touser, agent_id, "text");
  if (msg.kind == "markdown") return SplitInto(msg.text, kAppMarkdownBytes, touser, agent_id, "markdown");
  if (msg.kind == "card") {
    const std::string url = ParamString(msg.params, "url");
    if (url.empty()) {
      const std::string title = msg.title.value_or("");
      return SplitInto(title.empty() ? msg.text : title + "\n" + msg.text, kAppTextBytes, touser, agent_id, "text");
    }
    json body = AppEnvelope(touser, agent_id, "textcard");
    body["textcard"] = {{"title", Cut(msg.title.value_or(""), kCardTitleBytes)},
                        {"description", Cut(msg.text, kCardDescriptionBytes)},
                        {"url", url}};
    // btntxt is at most 4 characters (12 bytes of CJK); WeCom's default is 详情.
    if (const auto button = ParamString(msg.params, "button"); !button.empty()) {
      body["textcard"]["btntxt"] = Cut(button, 12);
    }
    return std::vector<ApiCall>{{"/cgi-bin/message/send", std::move(body)}};
  }
  if (msg.kind == "news") {
    auto articles = Articles(msg.params);
    if (!articles) return articles.error();
    json body = AppEnvelope(touser, agent_id, "news");
    body["news"] = {{"articles", std::move(*articles)}};
    return std::vector<ApiCall>{{"/cgi-bin/message/send", std::move(body)}};
  }
  if (msg.kind == "template") {
    auto card = TemplateCard(msg);
    if (!card) return card.error();
    json body = AppEnvelope(touser, agent_id, "template_card");
    body["template_card"] = std::move(*card);
    return std::vector<ApiCall>{{"/cgi-bin/message/send", std::move(body)}};
  }
  if (msg.kind == "card_update") {
    const std::string code = ParamString(msg.params, "response_code");
    const std::string replace = ParamString(msg.params, "replace_name");
    if (code.empty() || replace.empty()) return Invalid("card_update needs params.response_code and replace_name");
    json body{{"userids", json::array({touser})},
              {"agentid", agent_id},
              {"response_code", code},
              {"button", {{"replace_name", Cut(replace, kCardTitleBytes)}}}};
    return std::vector<ApiCall>{{"/cgi-bin/message/update_template_card", std::move(body)}};
  }
  return Invalid("WeCom cannot send a message of kind \"" + msg.kind + "\"");
}

Result<std::vector<json>> RenderRobotMessage(const dialogs::OutboundMessage& msg) {
  std::vector<json> bodies;
  if (msg.kind == "text") {
    const auto pieces = SplitUtf8(msg.text, kRobotTextBytes);
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      json text{{"content", pieces[i]}};
      // Mentions ring once, with the first piece.
      if (i == 0) {
        if (const auto m = msg.params.find("mentions"); m != msg.params.end() && m->is_array()) {
          text["mentioned_list"] = *m;
        }
        if (const auto m = msg.params.find("mention_mobiles"); m != msg.params.end() && m->is_array()) {
          text["mentioned_mobile_list"] = *m;
        }
      }
      bodies.push_back({{"msgtype", "text"}, {"text", std::move(text)}});
    }
    return bodies;
  }
  if (msg.kind == "news") {
    auto articles = Articles(msg.params);
    if (!articles) return articles.error();
    bodies.push_back({{"msgtype", "news"}, {"news", {{"articles", std::move(*articles)}}}});
    return bodies;
  }
  if (msg.kind == "markdown" || msg.kind == "card" || msg.kind == "template") {
    std::string content = msg.text;
    if (msg.kind != "markdown" && msg.title) content = "**" + *msg.title + "**\n" + content;
    if (const auto url = ParamString(msg.params, "url"); msg.kind == "card" && !url.empty()) {
      // The link text is the card's button label, or the link itself (no text of our own here).
      const std::string label = ParamString(msg.params, "button");
      content += "\n[" + (label.empty() ? url : label) + "](" + url + ")";
    }
    for (auto& piece : SplitUtf8(content, kRobotMarkdownBytes)) {
      bodies.push_back({{"msgtype", "markdown"}, {"markdown", {{"content", std::move(piece)}}}});
    }
    return bodies;
  }
  return Invalid("a group robot cannot send a message of kind \"" + msg.kind + "\"");
}

}  // namespace duijie::channels::wecom
