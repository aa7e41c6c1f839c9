#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/staff.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// The variables a text uses: "{name}，{deadline}前" → {"deadline", "name"}.
[[nodiscard]] std::set<std::string> Placeholders(std::string_view text);
/// `text` with every {key} of `vars` replaced by its value; `html` escapes the values.
[[nodiscard]] std::string FillPlaceholders(std::string text, const nlohmann::json& vars, bool html = false);
/// Whether a text holds a link (http://, https://, www.): SMS carries none.
[[nodiscard]] bool HasLink(std::string_view text);

/// The SMS templates the gateway can send, by kind, with their variables in order
/// (config/sms/templates.json): a message template's SMS part names one and fills them all.
using SmsKinds = std::map<std::string, std::vector<std::string>, std::less<>>;

/// Message templates staff keep for broadcasts (GET/POST /api/v1/templates). One text serves
/// every channel unless a channel has its own part:
///   {"name": "report_due", "description": "...", "variables": ["deadline"],
///    "title": "总结报告提醒", "text": "{name}，您好：总结报告请于{deadline}前提交。",
///    "wecom": {"format": "text" | "markdown" | "card", "title": ..., "text": ..., "url": "https://..."},
///    "sms":   {"template": "reminder", "params": {"text": "..."}},
///    "email": {"subject": ..., "text": ..., "html": "<p>...</p>"}}
/// Any text may instead be {"zh-CN": "...", "en": "..."} (zh-CN required); the person's language
/// picks. {name} is always there; other placeholders must be declared in "variables" and given
/// by the broadcast. Links are refused where SMS would carry them; HTML may not script.
/// `sms` lists the SMS kinds to check against (empty: not checked).
[[nodiscard]] Result<nlohmann::json> ParseTemplate(const nlohmann::json& body, const SmsKinds& sms);

/// Saves a new template (kConflict if the name is taken) or, with `replace`, replaces the one
/// named `name` (kNotFound if there is none). Viewers may not.
[[nodiscard]] Result<nlohmann::json> SaveTemplate(store::Connection& c, const Staff& staff, const nlohmann::json& body,
                                                  const SmsKinds& sms, bool replace, Clock::TimePoint now);
[[nodiscard]] Result<void> DeleteTemplate(store::Connection& c, const Staff& staff, std::string_view name);
/// A saved template by name, else a broadcast template of the catalogue ("broadcast.deadline")
/// in the same shape with "source": "catalogue" and every locale's texts.
[[nodiscard]] std::optional<nlohmann::json> FindTemplate(store::Connection& c, const Catalogue& catalogue,
                                                         std::string_view name);
/// Saved templates, then the catalogue's.
[[nodiscard]] nlohmann::json ListTemplates(store::Connection& c, const Catalogue& catalogue);

/// A template filled in for one person: what each channel sends.
struct Rendition {
  std::string title;
  std::string text;
  std::string wecom_format = "text";  // text, markdown, card
  std::string wecom_title;
  std::string wecom_text;
  std::string wecom_url;
  std::string sms_template = "reminder";
  nlohmann::json sms_params = nlohmann::json::object();
  std::string email_subject;
  std::string email_text;
  std::string email_html;  // empty: the mail's HTML is made from its text
};
[[nodiscard]] Rendition RenderTemplate(const nlohmann::json& body, std::string_view locale, const nlohmann::json& vars);

}  // namespace duijie::dialogs
