#include "dialogs/templates.hpp"

#include <algorithm>
#include <regex>

#include "common/html.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxTitleBytes = 200;
constexpr std::size_t kMaxTextBytes = 2000;
constexpr std::size_t kMaxMarkdownBytes = 4000;  // WeCom's markdown limit is 4096 bytes
constexpr std::size_t kMaxHtmlBytes = 20'000;
constexpr std::size_t kMaxVariables = 20;
// Keys the outbound payload's params use for itself: an SMS template variable may not take them.
const std::set<std::string, std::less<>> kReservedParams = {"locale", "task_id", "buttons", "url", "mail"};

Error InvalidTemplate(std::string message) { return {Errc::kInvalidArgument, "template: " + std::move(message)}; }

// A text field that may be absent (then `fallback`); nullopt when present but not a string.
std::optional<std::string> StringField(const json& object, const char* key, std::string fallback = {}) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool IsIdentifier(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
}

bool IsLocale(std::string_view s) {
  static const std::regex kLocale("[a-z]{2}(-[A-Z]{2})?");
  return std::regex_match(s.begin(), s.end(), kLocale);
}

// Staff write the HTML, but it reaches every mail client of the audience: nothing that runs.
std::optional<std::string> UnsafeHtml(std::string_view html) {
  std::string lower(html);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  for (const char* tag : {"<script", "<iframe", "<object", "<embed", "<form", "<link", "<meta", "<base"}) {
    if (lower.find(tag) != std::string::npos) return std::string(tag) + "> is not allowed";
  }
  if (lower.find("javascript:") != std::string::npos) return std::string("javascript: links are not allowed");
  static const std::regex kHandler(R"(\son[a-z]+\s*=)");
  if (std::regex_search(lower, kHandler)) return std::string("event handler attributes (onclick=...) are not allowed");
  return std::nullopt;
}

// How a value reads in a text: strings as they are, whole numbers without a fraction.
std::string ValueText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d))) return std::to_string(static_cast<long long>(d));
  }
  return v.dump();
}

// A text of a template: one string, or one per locale ({"zh-CN": ..., "en": ...}).
class TextChecker {
 public:
  TextChecker(std::set<std::string> variables, std::string where_prefix)
      : variables_(std::move(variables)), prefix_(std::move(where_prefix)) {}

  // The text at `key` of `parent`, checked; nullopt if fine, else the error.
  std::optional<Error> Check(const json& parent, const std::string& key, std::size_t max_bytes, bool required,
                             bool no_link) const {
    const std::string where = prefix_ + key;
    const auto it = parent.find(key);
    if (it == parent.end()) {
      return required ? std::optional<Error>(InvalidTemplate(where + ": required")) : std::nullopt;
    }
    if (it->is_string()) return CheckOne(where, it->get<std::string>(), max_bytes, no_link);
    if (!it->is_object()) return InvalidTemplate(where + ": a text, or an object of texts by locale {\"zh-CN\": ...}");
    if (!it->contains(std::string(Catalogue::kDefaultLocale))) {
      return InvalidTemplate(where + ": the zh-CN text is required (the others fall back to it)");
    }
    for (const auto& [locale, text] : it->items()) {
      if (!IsLocale(locale)) return InvalidTemplate(where + ": '" + locale + "' is not a locale like zh-CN or en");
      if (!text.is_string()) return InvalidTemplate(where + "." + locale + ": a text");
      if (auto e = CheckOne(where + "." + locale, text.get<std::string>(), max_bytes, no_link)) return e;
    }
    return std::nullopt;
  }

 private:
  std::optional<Error> CheckOne(const std::string& where, const std::string& text, std::size_t max_bytes,
                                bool no_link) const {
    if (text.empty() || text.size() > max_bytes) {
      return InvalidTemplate(where + ": 1 to " + std::to_string(max_bytes) + " bytes");
    }
    for (const auto& ph : Placeholders(text)) {
      if (!variables_.contains(ph)) {
        std::string names;
        for (const auto& v : variables_) names += (names.empty() ? "{" : ", {") + v + "}";
        return InvalidTemplate(where + ": {" + ph +
                               "} is not a variable of the template; declare it in \"variables\" (now " + names + ")");
      }
    }
    if (no_link && HasLink(text)) {
      return InvalidTemplate(where +
                             ": a link cannot go by SMS (the providers refuse it); give an \"sms\" part without it");
    }
    return std::nullopt;
  }

  std::set<std::string> variables_;
  std::string prefix_;
};

std::optional<Error> Unknown(const json& object, std::initializer_list<std::string_view> keys,
                             const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return InvalidTemplate("'" + where + key + "' is not a field of a template");
    }
  }
  return std::nullopt;
}

// The text of `value` for `locale`: itself, or its locale's entry, else zh-CN's.
std::string Localised(const json& parent, const char* key, std::string_view locale) {
  const auto it = parent.find(key);
  if (it == parent.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_object()) return {};
  if (const auto l = it->find(std::string(locale)); l != it->end() && l->is_string()) return l->get<std::string>();
  const auto d = it->find(std::string(Catalogue::kDefaultLocale));
  return d != it->end() && d->is_string() ? d->get<std::string>() : std::string();
}

json View(std::int64_t id, const std::string& body, const std::string& created_by, std::int64_t created,
          std::int64_t updated) {
  json out = json::parse(body, nullptr, false);
  if (!out.is_object()) out = json::object();
  out["id"] = id;
  out["source"] = "saved";
  out["created_by"] = created_by;
  out["created_at"] = FormatUtc(FromUnixMillis(created));
  out["updated_at"] = FormatUtc(FromUnixMillis(updated));
  return out;
}

std::optional<json> CatalogueTemplate(const Catalogue& catalogue, std::string_view name) {
  const std::string key(name);
  if (key.rfind("broadcast.", 0) != 0 || !catalogue.Has(Catalogue::kDefaultLocale, key + ".text")) return std::nullopt;
  json title = json::object();
  json text = json::object();
  std::set<std::string> vars;
  for (const auto& locale : catalogue.Locales()) {
    if (!catalogue.Has(locale, key + ".text")) continue;
    text[locale] = catalogue.Text(locale, key + ".text");
    if (catalogue.Has(locale, key + ".title")) title[locale] = catalogue.Text(locale, key + ".title");
    for (const auto& ph : Placeholders(text[locale].get<std::string>())) vars.insert(ph);
  }
  vars.erase("name");
  json out{{"name", key}, {"source", "catalogue"}, {"text", text}, {"variables", vars}};
  if (!title.empty()) out["title"] = title;
  return out;
}

}  // namespace

std::set<std::string> Placeholders(std::string_view text) {
  std::set<std::string> out;
  for (std::size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) break;
    out.emplace(text.substr(open + 1, close - open - 1));
  }
  return out;
}

std::string FillPlaceholders(std::string text, const json& vars, bool html) {
  for (const auto& [key, value] : vars.items()) {
    const std::string token = "{" + key + "}";
    const std::string with = html ? EscapeHtml(ValueText(value)) : ValueText(value);
    for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at + with.size())) {
      text.replace(at, token.size(), with);
    }
  }
  return text;
}

bool HasLink(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return lower.find("http://") != std::string::npos || lower.find("https://") != std::string::npos ||
         lower.find("www.") != std::string::npos;
}

Result<json> ParseTemplate(const json& body, const SmsKinds& sms) {
  if (!body.is_object()) return InvalidTemplate("the body must be a JSON object");
  if (auto e = Unknown(body, {"name", "description", "variables", "title", "text", "wecom", "sms", "email"}, "")) {
    return *e;
  }
  const std::string name = StringField(body, "name").value_or("");
  if (!IsIdentifier(name, 64)) {
    return InvalidTemplate("name: 1 to 64 of a-z, 0-9 and _, starting with a letter (e.g. report_due)");
  }
  json out{{"name", name}};
  if (body.contains("description")) {
    if (!body["description"].is_string() || body["description"].get<std::string>().size() > 500) {
      return InvalidTemplate("description: a text of at most 500 bytes");
    }
    out["description"] = body["description"];
  }
  std::set<std::string> variables = {"name"};
  json declared = json::array();
  if (body.contains("variables")) {
    const auto& v = body["variables"];
    if (!v.is_array() || v.size() > kMaxVariables) return InvalidTemplate("variables: a list of at most 20 names");
    for (const auto& x : v) {
      if (!x.is_string() || !IsIdentifier(x.get<std::string>(), 32)) {
        return InvalidTemplate("variables: " + x.dump() + " is not a name of a-z, 0-9 and _ starting with a letter");
      }
      if (x.get<std::string>() == "name") continue;  // always there: the person's name
      if (!variables.insert(x.get<std::string>()).second)
        return InvalidTemplate("variables: " + x.dump() + " is listed twice");
      declared.push_back(x);
    }
  }
  out["variables"] = declared;
  const TextChecker top(variables, "");
  // Without its own SMS part, SMS sends the title and text: no link may be in them.
  const bool default_sms = !body.contains("sms");
  if (auto e = top.Check(body, "title", kMaxTitleBytes, true, default_sms)) return *e;
  if (auto e = top.Check(body, "text", kMaxTextBytes, true, default_sms)) return *e;
  out["title"] = body["title"];
  out["text"] = body["text"];

  if (body.contains("wecom")) {
    const auto& w = body["wecom"];
    if (!w.is_object()) return InvalidTemplate("wecom: an object {format, title, text, url}");
    if (auto e = Unknown(w, {"format", "title", "text", "url"}, "wecom.")) return *e;
    const std::string format = StringField(w, "format", "text").value_or("");
    if (format != "text" && format != "markdown" && format != "card") {
      return InvalidTemplate("wecom.format: text, markdown or card");
    }
    const TextChecker checker(variables, "wecom.");
    if (auto e = checker.Check(w, "title", kMaxTitleBytes, false, false)) return *e;
    if (auto e = checker.Check(w, "text", format == "markdown" ? kMaxMarkdownBytes : kMaxTextBytes, false, false)) {
      return *e;
    }
    if (w.contains("url")) {
      if (format != "card" || !w["url"].is_string() || w["url"].get<std::string>().rfind("https://", 0) != 0 ||
          w["url"].get<std::string>().size() > 1000) {
        return InvalidTemplate("wecom.url: an https:// link of at most 1000 bytes, for the card format only");
      }
    }
    out["wecom"] = w;
    out["wecom"]["format"] = format;
  }
  if (body.contains("sms")) {
    const auto& s = body["sms"];
    if (!s.is_object()) return InvalidTemplate("sms: an object {template, params}");
    if (auto e = Unknown(s, {"template", "params"}, "sms.")) return *e;
    const std::string kind = StringField(s, "template").value_or("");
    const json params = s.contains("params") ? s["params"] : json::object();
    if (kind.empty()) return InvalidTemplate("sms.template: the kind of an approved SMS template (e.g. reminder)");
    if (!params.is_object()) return InvalidTemplate("sms.params: an object of the SMS template's variables");
    const TextChecker checker(variables, "sms.params.");
    if (!sms.empty()) {
      const auto found = sms.find(kind);
      if (found == sms.end()) {
        std::string kinds;
        for (const auto& [k, p] : sms) kinds += (kinds.empty() ? "" : ", ") + k;
        return InvalidTemplate("sms.template: '" + kind + "' is not an SMS template of the gateway (" + kinds + ")");
      }
      for (const auto& p : found->second) {
        if (!params.contains(p))
          return InvalidTemplate("sms.params: the SMS template '" + kind + "' needs {" + p + "}");
      }
      for (const auto& [k, v] : params.items()) {
        if (std::find(found->second.begin(), found->second.end(), k) == found->second.end()) {
          return InvalidTemplate("sms.params: '" + k + "' is not a variable of the SMS template '" + kind + "'");
        }
      }
    }
    for (const auto& [k, v] : params.items()) {
      if (kReservedParams.contains(k)) return InvalidTemplate("sms.params: '" + k + "' is a name duijie uses itself");
      if (auto e = checker.Check(params, k, 500, true, true)) return *e;
    }
    out["sms"] = {{"template", kind}, {"params", params}};
  }
  if (body.contains("email")) {
    const auto& m = body["email"];
    if (!m.is_object()) return InvalidTemplate("email: an object {subject, text, html}");
    if (auto e = Unknown(m, {"subject", "text", "html"}, "email.")) return *e;
    const TextChecker checker(variables, "email.");
    if (auto e = checker.Check(m, "subject", kMaxTitleBytes, false, false)) return *e;
    if (auto e = checker.Check(m, "text", kMaxTextBytes * 5, false, false)) return *e;
    if (auto e = checker.Check(m, "html", kMaxHtmlBytes, false, false)) return *e;
    if (m.contains("html")) {
      const json& html = m["html"];
      for (const auto& h : html.is_object() ? html : json::array({html})) {
        if (auto why = UnsafeHtml(h.get<std::string>())) return InvalidTemplate("email.html: " + *why);
      }
    }
    out["email"] = m;
  }
  return out;
}

Result<json> SaveTemplate(store::Connection& c, const Staff& staff, const json& body, const SmsKinds& sms, bool replace,
                          Clock::TimePoint now) {
  if (staff.role == "viewer") return Error(Errc::kPermissionDenied, "template: viewer tokens cannot change templates");
  auto parsed = ParseTemplate(body, sms);
  if (!parsed) return parsed.error();
  const std::string name = (*parsed)["name"].get<std::string>();
  const std::int64_t now_ms = ToUnixMillis(now);
  auto& find = c.Prepare("SELECT id FROM message_templates WHERE name = ?");
  find.bind(1, name);
  const std::optional<std::int64_t> existing =
      find.executeStep() ? std::optional<std::int64_t>(find.getColumn(0).getInt64()) : std::nullopt;
  find.reset();
  if (replace && !existing) return Error(Errc::kNotFound, "template: no template named '" + name + "'");
  if (!replace && existing) {
    return Error(Errc::kConflict, "template: '" + name + "' exists; change it with PUT /api/v1/templates/" + name);
  }
  if (existing) {
    auto& u = c.Prepare("UPDATE message_templates SET body = ?, updated_by = ?, updated_at = ? WHERE id = ?");
    u.bind(1, parsed->dump());
    u.bind(2, staff.name);
    u.bind(3, now_ms);
    u.bind(4, *existing);
    u.exec();
    u.reset();
  } else {
    auto& i = c.Prepare(
        "INSERT INTO message_templates (name, body, created_by, updated_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    i.bind(1, name);
    i.bind(2, parsed->dump());
    i.bind(3, staff.name);
    i.bind(4, staff.name);
    i.bind(5, now_ms);
    i.bind(6, now_ms);
    i.exec();
    i.reset();
  }
  return *FindTemplate(c, Catalogue::Embedded(), name);
}

Result<void> DeleteTemplate(store::Connection& c, const Staff& staff, std::string_view name) {
  if (staff.role == "viewer") return Error(Errc::kPermissionDenied, "template: viewer tokens cannot change templates");
  auto& d = c.Prepare("DELETE FROM message_templates WHERE name = ?");
  d.bind(1, std::string(name));
  const int n = d.exec();
  d.reset();
  if (n == 0) return Error(Errc::kNotFound, "template: no saved template named '" + std::string(name) + "'");
  return {};
}

std::optional<json> FindTemplate(store::Connection& c, const Catalogue& catalogue, std::string_view name) {
  auto& q = c.Prepare(
      "SELECT id, body, COALESCE(updated_by, created_by, ''), created_at, updated_at FROM message_templates "
      "WHERE name = ?");
  q.bind(1, std::string(name));
  std::optional<json> out;
  if (q.executeStep()) {
    out = View(q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
               q.getColumn(3).getInt64(), q.getColumn(4).getInt64());
  }
  q.reset();
  if (!out) out = CatalogueTemplate(catalogue, name);
  return out;
}

json ListTemplates(store::Connection& c, const Catalogue& catalogue) {
  json list = json::array();
  auto& q = c.Prepare(
      "SELECT id, body, COALESCE(updated_by, created_by, ''), created_at, updated_at FROM message_templates "
      "ORDER BY name");
  while (q.executeStep()) {
    list.push_back(View(q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                        q.getColumn(3).getInt64(), q.getColumn(4).getInt64()));
  }
  q.reset();
  for (const auto& key : catalogue.Keys(Catalogue::kDefaultLocale)) {
    constexpr std::string_view kSuffix = ".text";
    if (key.rfind("broadcast.", 0) != 0 || key.size() <= kSuffix.size() ||
        key.compare(key.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    if (auto t = CatalogueTemplate(catalogue, key.substr(0, key.size() - kSuffix.size()))) list.push_back(*t);
  }
  return list;
}

Rendition RenderTemplate(const json& body, std::string_view locale, const json& vars) {
  const auto text_of = [&locale, &vars](const json& parent, const char* key) {
    return FillPlaceholders(Localised(parent, key, locale), vars, false);
  };
  Rendition r;
  r.title = text_of(body, "title");
  r.text = text_of(body, "text");
  const json none = json::object();
  const json& wecom = body.contains("wecom") ? body["wecom"] : none;
  r.wecom_format = wecom.value("format", "text");
  r.wecom_title = wecom.contains("title") ? text_of(wecom, "title") : r.title;
  r.wecom_text = wecom.contains("text") ? text_of(wecom, "text") : r.text;
  r.wecom_url = wecom.value("url", "");
  if (body.contains("sms")) {
    r.sms_template = body["sms"].value("template", "reminder");
    const json params = body["sms"].value("params", json::object());
    for (const auto& [k, v] : params.items()) r.sms_params[k] = text_of(params, k.c_str());
  } else {
    r.sms_params["text"] = (r.title.empty() ? "" : "【" + r.title + "】") + r.text;
  }
  const json& email = body.contains("email") ? body["email"] : none;
  r.email_subject = email.contains("subject") ? text_of(email, "subject") : r.title;
  r.email_text = email.contains("text") ? text_of(email, "text") : r.text;
  if (email.contains("html")) r.email_html = FillPlaceholders(Localised(email, "html", locale), vars, true);
  return r;
}

}  // namespace duijie::dialogs
