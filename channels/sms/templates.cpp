#include "channels/sms/templates.hpp"

#include <algorithm>
#include <cctype>

#include "sms_templates_embedded.hpp"

namespace duijie::channels::sms {
namespace {

constexpr std::size_t kMaxContent = 500;  // both providers' content limit
constexpr std::size_t kSinglePart = 70;
constexpr std::size_t kPartLength = 67;

std::string ValueText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return v.dump();
  return {};
}

}  // namespace

std::size_t SmsLength(std::string_view utf8) {
  std::size_t n = 0;
  for (const char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // count lead bytes only
  }
  return n;
}

std::size_t SmsParts(std::size_t length) {
  if (length == 0) return 0;
  return length <= kSinglePart ? 1 : (length + kPartLength - 1) / kPartLength;
}

// Scanned by hand, not with std::regex: it runs on every variable of every SMS sent, and the
// regex was 1 % of the dispatcher's CPU. Matches "http://", "https://", "www." and a host part
// followed by one of the common top-level domains at a word boundary ("duijie.com", "x.cn/1").
bool LooksLikeUrl(std::string_view value) {
  std::string lower(value);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) {
    return ch < 0x80 ? static_cast<char>(std::tolower(ch)) : static_cast<char>(ch);
  });
  for (const std::string_view mark : {"http://", "https://", "www."}) {
    if (lower.find(mark) != std::string::npos) return true;
  }
  const auto host = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'; };
  const auto word = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; };
  for (std::size_t dot = lower.find('.'); dot != std::string::npos; dot = lower.find('.', dot + 1)) {
    if (dot == 0 || !host(lower[dot - 1])) continue;
    for (const std::string_view tld : {"com", "cn", "net", "org", "gov", "edu", "top", "io"}) {
      if (lower.compare(dot + 1, tld.size(), tld) != 0) continue;
      const std::size_t after = dot + 1 + tld.size();
      if (after == lower.size() || !word(lower[after])) return true;
    }
  }
  return false;
}

Result<Templates> Templates::Parse(std::string_view json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, false, true);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Errc::kInvalidArgument, "sms templates: not a JSON object");
  }
  Templates out;
  for (const auto& [kind, t] : doc.items()) {
    if (kind.starts_with('_')) continue;
    const std::string where = "sms templates: " + kind;
    if (!t.is_object()) return Error(Errc::kInvalidArgument, where + ": expected an object");
    Template tmpl;
    tmpl.kind = kind;
    tmpl.type = t.value("type", "notification");
    if (tmpl.type != "verification" && tmpl.type != "notification" && tmpl.type != "marketing") {
      return Error(Errc::kInvalidArgument,
                   where + ".type: '" + tmpl.type + "' is not one of verification|notification|marketing");
    }
    tmpl.urgent = t.value("urgent", false);
    if (!t.contains("text") || !t["text"].is_string() || t["text"].get<std::string>().empty()) {
      return Error(Errc::kInvalidArgument, where + ".text: the approved text is required");
    }
    tmpl.text = t["text"].get<std::string>();
    for (const auto& p : t.value("params", nlohmann::json::array())) {
      if (!p.is_string()) return Error(Errc::kInvalidArgument, where + ".params: names must be strings");
      const auto name = p.get<std::string>();
      if (tmpl.text.find("{" + name + "}") == std::string::npos) {
        return Error(Errc::kInvalidArgument, where + ".params: {" + name + "} does not appear in the text");
      }
      tmpl.params.push_back(name);
    }
    tmpl.tencent_id = t.value("tencent", "");
    tmpl.aliyun_id = t.value("aliyun", "");
    out.by_kind_.emplace(kind, std::move(tmpl));
  }
  return out;
}

const Templates& Templates::Embedded() {
  static const Templates kEmbedded = [] {
    auto parsed = Parse(EmbeddedSmsTemplates());
    if (!parsed) throw std::logic_error("embedded SMS templates: " + parsed.error().message);
    return std::move(*parsed);
  }();
  return kEmbedded;
}

const Template* Templates::Find(std::string_view kind) const {
  const auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? nullptr : &it->second;
}

std::map<std::string, std::vector<std::string>, std::less<>> Templates::Kinds() const {
  std::map<std::string, std::vector<std::string>, std::less<>> out;
  for (const auto& [kind, t] : by_kind_) out.emplace(kind, t.params);
  return out;
}

Result<Rendered> Templates::Render(std::string_view kind, const nlohmann::json& params,
                                   std::string_view sign_name) const {
  const Template* t = Find(kind);
  if (t == nullptr) return Error(Errc::kNotFound, "no SMS template for '" + std::string(kind) + "'");
  Rendered out;
  out.tmpl = t;
  out.text = t->text;
  for (const auto& name : t->params) {
    const auto it = params.is_object() ? params.find(name) : params.end();
    if (it == params.end() || ValueText(*it).empty()) {
      return Error(Errc::kInvalidArgument, "SMS template '" + t->kind + "': variable {" + name + "} is missing");
    }
    std::string value = ValueText(*it);
    if (LooksLikeUrl(value)) {
      return Error(Errc::kInvalidArgument,
                   "SMS template '" + t->kind + "': variable {" + name + "} holds a link, which carriers refuse");
    }
    const std::string placeholder = "{" + name + "}";
    for (auto pos = out.text.find(placeholder); pos != std::string::npos; pos = out.text.find(placeholder, pos)) {
      out.text.replace(pos, placeholder.size(), value);
      pos += value.size();
    }
    out.values.push_back(std::move(value));
  }
  const std::size_t content = SmsLength(out.text);
  if (content > kMaxContent) {
    return Error(Errc::kTooLarge, "SMS '" + t->kind + "' has " + std::to_string(content) + " characters; at most " +
                                      std::to_string(kMaxContent));
  }
  out.length = content + (sign_name.empty() ? 0 : SmsLength(sign_name) + 2);  // 【】 count too
  out.parts = SmsParts(out.length);
  return out;
}

}  // namespace duijie::channels::sms
