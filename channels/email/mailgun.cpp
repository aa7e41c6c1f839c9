#include "channels/email/mailgun.hpp"

#include <nlohmann/json.hpp>

#include "channels/sms/providers.hpp"
#include "common/digest.hpp"

namespace duijie::channels::email {

std::string_view FormData::Get(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return {};
}

Result<FormData> ParseFormData(std::string_view body, std::string_view content_type, const ParseLimits& limits) {
  const HeaderValue type = ParseHeaderValue(content_type);
  FormData out;
  if (type.value == "application/x-www-form-urlencoded") {
    auto form = sms::FormDecode(body);
    if (!form) return Error(Errc::kInvalidArgument, "body is not a valid form");
    out.fields = std::move(*form);
    return out;
  }
  if (type.value != "multipart/form-data") {
    return Error(Errc::kInvalidArgument, "expected a form body, not \"" + type.value + "\"");
  }
  const auto boundary = type.params.find("boundary");
  if (boundary == type.params.end()) return Error(Errc::kInvalidArgument, "multipart/form-data without a boundary");
  auto parts = SplitMultipart(body, boundary->second, limits.max_parts);
  if (!parts) return parts.error();
  for (const auto part : *parts) {
    auto entity = SplitEntity(part, limits);
    if (!entity) return entity.error();
    const HeaderValue disposition = ParseHeaderValue(entity->headers.Get("Content-Disposition"));
    const auto name = disposition.params.find("name");
    if (name == disposition.params.end()) continue;
    const auto filename = disposition.params.find("filename");
    if (filename != disposition.params.end()) {
      const HeaderValue part_type = ParseHeaderValue(entity->headers.Get("Content-Type"));
      out.files.push_back({filename->second, part_type.value.empty() ? "application/octet-stream" : part_type.value,
                           std::string(entity->body)});
    } else {
      out.fields.emplace_back(name->second, std::string(entity->body));
    }
  }
  return out;
}

bool MailgunSignatureValid(std::string_view signing_key, std::string_view timestamp, std::string_view token,
                           std::string_view signature) {
  if (signing_key.empty() || timestamp.empty() || token.empty()) return false;
  const std::string expected = HexEncode(HmacSha256(signing_key, std::string(timestamp) + std::string(token)));
  return ConstantTimeEquals(expected, signature);
}

Result<ParsedMail> MailgunMail(const FormData& form, const ParseLimits& limits) {
  if (const auto mime = form.Get("body-mime"); !mime.empty()) return ParseMail(mime, limits);
  ParsedMail mail;
  const auto headers_json = form.Get("message-headers");
  if (!headers_json.empty()) {
    const auto parsed = nlohmann::json::parse(headers_json, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_array()) {
      return Error(Errc::kInvalidArgument, "message-headers is not a JSON list of [name, value] pairs");
    }
    for (const auto& pair : parsed) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return Error(Errc::kInvalidArgument, "message-headers is not a JSON list of [name, value] pairs");
      }
      mail.headers.Add(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  // Mailgun hands the header values decoded already; decode again only what still is encoded.
  const auto decoded = [](std::string_view v) {
    auto d = DecodeHeaderText(v);
    return d ? std::move(*d) : std::string(v);
  };
  mail.from = ParseMailbox(decoded(form.Get("from").empty() ? mail.headers.Get("From") : form.Get("from")));
  if (mail.from.address.empty()) mail.from.address = ParseMailbox(form.Get("sender")).address;
  mail.subject = decoded(form.Get("subject").empty() ? mail.headers.Get("Subject") : form.Get("subject"));
  mail.recipients = ParseAddressList(form.Get("recipient"));
  if (auto ids = ParseMessageIds(mail.headers.Get("Message-Id")); !ids.empty()) mail.message_id = ids.front();
  if (auto ids = ParseMessageIds(mail.headers.Get("In-Reply-To")); !ids.empty()) mail.in_reply_to = ids.back();
  mail.references = ParseMessageIds(mail.headers.Get("References"));
  // Mailgun's own quote stripping when it did it; ours runs on body-plain otherwise.
  const auto stripped = form.Get("stripped-text");
  mail.text = std::string(stripped.empty() ? form.Get("body-plain") : stripped);
  mail.html = std::string(form.Get("body-html"));
  mail.attachments = form.files;
  const auto auto_submitted = mail.headers.Get("Auto-Submitted");
  mail.automatic = (!auto_submitted.empty() && auto_submitted != "no") || mail.headers.Has("X-Autoreply");
  if (auto r = CheckAttachments(mail, limits); !r) return r.error();
  return mail;
}

bool UsedTokens::Seen(const std::string& token) {
  const std::lock_guard lock(mu_);
  Expire(clock_.Now());
  return seen_.contains(token);
}

void UsedTokens::Remember(const std::string& token) {
  const std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  Expire(now);
  if (!seen_.insert(token).second) return;
  order_.emplace_back(now, token);
  while (order_.size() > max_entries_) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

void UsedTokens::Expire(Clock::TimePoint now) {
  while (!order_.empty() && now - order_.front().first > window_) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

}  // namespace duijie::channels::email
