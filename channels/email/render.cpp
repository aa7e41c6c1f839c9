#include "channels/email/render.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/digest.hpp"
#include "common/html.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::email {
namespace {

constexpr std::size_t kTagHex = 16;

std::string Tag(std::string_view purpose, std::int64_t id, std::string_view secret) {
  return HexEncode(HmacSha256(secret, std::string(purpose) + ":" + std::to_string(id))).substr(0, kTagHex);
}

std::optional<std::int64_t> ParseId(std::string_view digits) {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::int64_t id = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

std::string DomainOf(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string("duijie.invalid") : std::string(address.substr(at + 1));
}

Result<Attachment> ReadAttachment(const nlohmann::json& a, const MailSettings& settings) {
  if (!a.is_object() || !a.contains("path") || !a["path"].is_string()) {
    return Error(Errc::kInvalidArgument, "an attachment needs a path");
  }
  namespace fs = std::filesystem;
  // Only files under files_dir: a payload never names an arbitrary file of the host.
  std::error_code ec;
  const fs::path base =
      fs::weakly_canonical(settings.files_dir.empty() ? fs::path(".") : fs::path(settings.files_dir), ec);
  const fs::path path = fs::weakly_canonical(base / a["path"].get<std::string>(), ec);
  const auto rel = path.lexically_relative(base);
  if (ec || rel.empty() || *rel.begin() == "..") return Error(Errc::kPermissionDenied, "attachment outside files_dir");
  const auto size = fs::file_size(path, ec);
  if (ec) return Error(Errc::kNotFound, "attachment cannot be read: " + rel.string());
  if (size > settings.max_attachment_bytes) return Error(Errc::kTooLarge, "attachment too large: " + rel.string());
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  if (!in) return Error(Errc::kNotFound, "attachment cannot be read: " + rel.string());
  Attachment out;
  out.filename = a.value("filename", path.filename().string());
  out.content_type = a.value("content_type", std::string("application/octet-stream"));
  out.data = std::move(data).str();
  return out;
}

}  // namespace

std::string MessageIdFor(std::int64_t outbox_id, std::string_view secret, std::string_view domain) {
  return "duijie.o" + std::to_string(outbox_id) + "." + Tag("mid", outbox_id, secret) + "@" + std::string(domain);
}

std::string MessageIdFor(std::int64_t outbox_id, const MailSettings& settings) {
  return MessageIdFor(
      outbox_id, settings.token_secret,
      settings.message_id_domain.empty() ? DomainOf(settings.from.address) : settings.message_id_domain);
}

std::optional<std::int64_t> OutboxIdOfMessageId(std::string_view message_id, std::string_view secret) {
  constexpr std::string_view kPrefix = "duijie.o";
  if (message_id.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const auto rest = message_id.substr(kPrefix.size());
  const auto dot = rest.find('.');
  const auto at = rest.find('@');
  if (dot == std::string_view::npos || at == std::string_view::npos || at < dot) return std::nullopt;
  const auto id = ParseId(rest.substr(0, dot));
  if (!id || !ConstantTimeEquals(rest.substr(dot + 1, at - dot - 1), Tag("mid", *id, secret))) return std::nullopt;
  return id;
}

std::string ReplyToken(std::int64_t outbox_id, std::string_view secret) {
  return "o" + std::to_string(outbox_id) + "-" + Tag("reply", outbox_id, secret);
}

std::optional<std::int64_t> OutboxIdOfToken(std::string_view token, std::string_view secret) {
  if (token.empty() || (token[0] != 'o' && token[0] != 'O')) return std::nullopt;
  const auto dash = token.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto id = ParseId(token.substr(1, dash - 1));
  // Some mail systems lower-case the local part; our tags are lower-case hex already.
  std::string tag(token.substr(dash + 1));
  for (char& c : tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!id || !ConstantTimeEquals(tag, Tag("reply", *id, secret))) return std::nullopt;
  return id;
}

std::optional<std::string> PlusToken(std::string_view address) {
  const auto at = address.rfind('@');
  const auto local = address.substr(0, at);
  const auto plus = local.find('+');
  if (plus == std::string_view::npos || plus + 1 >= local.size()) return std::nullopt;
  return std::string(local.substr(plus + 1));
}

namespace {

constexpr std::string_view kHtmlOpen = "<!DOCTYPE html><html><body style=\"font-family:sans-serif;line-height:1.6\">\n";
constexpr std::string_view kHtmlClose = "</body></html>\n";

// Plain text as HTML paragraphs: a blank line starts a paragraph, a line break stays one.
std::string Paragraphs(std::string_view text) {
  std::string out = "<p>";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        out += "</p>\n<p>";
        while (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      } else {
        out += "<br>\n";
      }
      continue;
    }
    out += EscapeHtml(text.substr(i, 1));
  }
  out += "</p>\n";
  return out;
}

}  // namespace

std::string TextToHtml(std::string_view text) {
  return std::string(kHtmlOpen) + Paragraphs(text) + std::string(kHtmlClose);
}

Result<OutgoingMail> RenderOutbox(const store::OutboxMessage& msg, const MailSettings& settings,
                                  const dialogs::Catalogue& catalogue, std::int64_t now_unix,
                                  std::string boundary_seed) {
  if (!PlausibleAddress(msg.recipient)) return Error(Errc::kInvalidArgument, "not an email address");
  const auto json = nlohmann::json::parse(msg.payload, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return Error(Errc::kInvalidArgument, "payload is not a JSON object");
  dialogs::OutboundMessage out;
  try {
    out = json.get<dialogs::OutboundMessage>();
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::kInvalidArgument, std::string("payload: ") + e.what());
  }
  const nlohmann::json& params = out.params;
  const std::string locale = params.value("locale", std::string(dialogs::Catalogue::kDefaultLocale));
  OutgoingMail mail;
  mail.from = settings.from;
  if (mail.from.name.empty()) mail.from.name = catalogue.Text(locale, "email.from_name");
  mail.to = {{"", msg.recipient}};
  mail.message_id = MessageIdFor(msg.id, settings);
  const std::string token = ReplyToken(msg.id, settings.token_secret);
  if (!settings.reply_address.empty()) {
    const auto at = settings.reply_address.rfind('@');
    mail.reply_to = settings.reply_address.substr(0, at) + "+" + token + settings.reply_address.substr(at);
  }
  const std::string in_reply_to = params.value("email_in_reply_to", std::string());
  if (!in_reply_to.empty()) {
    mail.in_reply_to = in_reply_to;
    if (params.contains("email_references") && params["email_references"].is_array()) {
      for (const auto& r : params["email_references"]) {
        if (r.is_string()) mail.references.push_back(r.get<std::string>());
      }
    }
    mail.references.push_back(in_reply_to);
  }
  // A broadcast says what its mail holds (subject, text, HTML) apart from the WeCom text.
  const nlohmann::json none = nlohmann::json::object();
  const auto mail_it = params.find("mail");
  const nlohmann::json& own = mail_it != params.end() && mail_it->is_object() ? *mail_it : none;
  const std::string own_subject = own.value("subject", std::string());
  const std::string original_subject = params.value("email_subject", std::string());
  if (!own_subject.empty()) {
    mail.subject = own_subject;
  } else if (out.title && !out.title->empty()) {
    mail.subject = *out.title;
  } else if (!original_subject.empty()) {
    const bool already = original_subject.rfind("Re:", 0) == 0 || original_subject.rfind("RE:", 0) == 0 ||
                         original_subject.rfind("回复", 0) == 0;
    mail.subject = already ? original_subject : "Re: " + original_subject;
  } else {
    const std::string key = "email.subject." + msg.kind;
    mail.subject = catalogue.Text(locale, catalogue.Has(locale, key) ? key : "email.subject.default");
  }
  const bool conversational = msg.kind == "reply" || msg.kind == "verification_code";
  if (!conversational) {
    if (!settings.unsubscribe_mailto.empty()) {
      mail.unsubscribe_mailto = settings.unsubscribe_mailto + "?subject=unsubscribe-" + token;
    }
    if (settings.public_base_url.rfind("https://", 0) == 0) {
      mail.unsubscribe_https = settings.public_base_url + "/email/unsubscribe/" + token;
    }
  }
  std::string footer = catalogue.Text(locale, "email.footer.reply");
  if (!conversational) footer += "\n" + catalogue.Text(locale, "email.footer.unsubscribe");
  const std::string body = own.value("text", out.text);
  mail.text = body + "\n\n-- \n" + footer + "\n";
  const std::string own_html = own.value("html", std::string());
  if (own_html.empty()) {
    mail.html = TextToHtml(body + "\n\n" + footer);
  } else {
    mail.html = std::string(kHtmlOpen) + own_html + "\n<hr>\n" + Paragraphs(footer) + std::string(kHtmlClose);
  }
  if (params.contains("attachments") && params["attachments"].is_array()) {
    for (const auto& a : params["attachments"]) {
      auto attachment = ReadAttachment(a, settings);
      if (!attachment) return attachment.error();
      mail.attachments.push_back(std::move(*attachment));
    }
  }
  mail.date_unix = now_unix;
  mail.boundary_seed = std::move(boundary_seed);
  return mail;
}

}  // namespace duijie::channels::email
