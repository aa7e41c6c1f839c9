#include "bot/handlers/email_handler.hpp"

#include <charconv>

#include "bot/http/responses.hpp"
#include "channels/email/render.hpp"
#include "channels/email/reply_text.hpp"
#include "common/digest.hpp"
#include "common/mask.hpp"
#include "dialogs/email_replies.hpp"
#include "store/documents.hpp"
#include "store/inbox_repository.hpp"

namespace duijie::bot {
namespace {

namespace email = channels::email;

HttpResponse RefuseMail(const Logger& log, http::status status, std::string_view code, std::string_view message) {
  log.Warn("inbound mail refused", {{"code", code}, {"reason", message}});
  return JsonError(status, code, message);
}

HttpResponse RefuseParse(const Logger& log, const Error& e, http::status malformed) {
  if (e.code == Errc::kTooLarge) return RefuseMail(log, http::status::payload_too_large, "too_large", e.message);
  return RefuseMail(log, malformed, "malformed_mail", e.message);
}

// The outbox message a token or one of our Message-IDs names, if it is a mail we sent.
std::optional<store::OutboxMessage> OurMail(store::Connection& c, std::optional<std::int64_t> id) {
  if (!id) return std::nullopt;
  auto msg = store::OutboxRepository::Find(c, *id);
  if (!msg || msg->channel != "email") return std::nullopt;
  return msg;
}

// Whose conversation a mail continues: the plus-address token (survives clients that drop
// threading headers), then In-Reply-To and References newest first, then the sender.
std::string ConversationAddress(store::Connection& c, const email::ParsedMail& mail, const std::string& secret) {
  for (const auto& rcpt : mail.recipients) {
    if (const auto token = email::PlusToken(rcpt)) {
      if (auto msg = OurMail(c, email::OutboxIdOfToken(*token, secret))) return msg->recipient;
    }
  }
  std::vector<std::string> ids;
  if (!mail.in_reply_to.empty()) ids.push_back(mail.in_reply_to);
  ids.insert(ids.end(), mail.references.rbegin(), mail.references.rend());
  for (const auto& id : ids) {
    if (auto msg = OurMail(c, email::OutboxIdOfMessageId(id, secret))) return msg->recipient;
  }
  return mail.from.address;
}

struct MailIngested {
  bool duplicate = false;
  bool queued = false;
  std::string outcome;  // for the log: conversation, automatic, bounce, unsubscribed
};

// One mail through the inbox: exactly once, its documents, its answer, all in one transaction.
// Everything by value and named at the call: GCC 12 mishandles temporaries across co_await.
net::awaitable<MailIngested> Ingest(const EmailDeps& deps, email::ParsedMail mail, std::string digest) {
  const auto now = deps.clock.Now();
  const auto now_ms = ToUnixMillis(now);
  const std::string key = mail.message_id.empty() ? "sha256:" + digest : "mid:" + mail.message_id.substr(0, 500);
  const std::string text = email::ExtractReply(mail.text.empty() ? email::HtmlToText(mail.html, true) : mail.text);
  const nlohmann::json summary = {
      {"kind", mail.bounce ? "bounce" : "text"}, {"from", mail.from.address},       {"subject", mail.subject},
      {"message_id", mail.message_id},           {"in_reply_to", mail.in_reply_to}, {"text", text},
      {"attachments", mail.attachments.size()},  {"automatic", mail.automatic}};
  const auto job = [&](store::Connection& c) {
    MailIngested out;
    const auto entry = store::InboxRepository::Begin(
        c,
        {"email", key, mail.from.address, summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
         std::nullopt},
        now_ms);
    if (entry.duplicate) {
      out.duplicate = true;
      return out;
    }
    std::string status = "processed";
    if (mail.bounce) {
      out.outcome = "bounce";
      const bool changed =
          mail.bounce->permanent &&
          dialogs::ProcessBounce(c, email::OutboxIdOfMessageId(mail.bounce->original_message_id, deps.token_secret),
                                 mail.bounce->recipient, mail.bounce->status, now);
      out.queued = changed;  // a failed message may queue its fallback
      if (!changed) status = "ignored";
    } else if (mail.automatic) {
      out.outcome = "automatic";  // out-of-office and the like: kept, never answered
      status = "ignored";
    } else {
      dialogs::EmailIn in;
      in.address = ConversationAddress(c, mail, deps.token_secret);
      in.text = text;
      in.subject = mail.subject;
      in.message_id = mail.message_id;
      in.references = mail.references;
      in.key = key;
      for (const auto& a : mail.attachments) {
        store::NewDocument doc{a.filename, a.content_type, "email", entry.id};
        auto stored = store::AddDocument(c, deps.files_dir, a.data, doc, now_ms);
        if (!stored) throw std::runtime_error("cannot keep an attachment: " + stored.error().message);
        in.attachments.push_back(stored->sha256);
      }
      if (deps.conversations != nullptr) {
        auto result = dialogs::ProcessEmail(c, *deps.conversations, deps.catalogue, in, now);
        out.outcome = result.route == dialogs::EmailRoute::kConversation   ? "conversation"
                      : result.route == dialogs::EmailRoute::kPushAnswered ? "push_answered"
                      : result.route == dialogs::EmailRoute::kAcknowledged ? "acknowledged"
                                                                           : "unsubscribed";
        for (auto& m : result.outbox) {
          m.inbox_id = entry.id;
          store::OutboxRepository::Enqueue(c, m, now_ms);
          out.queued = true;
        }
      }
    }
    store::InboxRepository::Complete(c, entry.id, status, {200, "", ""}, now_ms);
    return out;
  };
  const MailIngested out = co_await deps.writer.Run(job);
  if (out.queued && deps.outbox_notify) deps.outbox_notify();
  deps.log.Info("inbound mail", {{"from", MaskEmail(mail.from.address)},
                                 {"outcome", out.duplicate ? "duplicate" : out.outcome},
                                 {"attachments", mail.attachments.size()}});
  co_return out;
}

// Ingest, or the answer that makes the sender deliver the mail again later (a bounce that
// overtook the record of its own send).
struct Taken {
  MailIngested done;
  std::optional<HttpResponse> retry;
};
net::awaitable<Taken> IngestOrRetry(const EmailDeps& deps, email::ParsedMail mail, std::string digest) {
  Taken out;
  try {
    out.done = co_await Ingest(deps, std::move(mail), std::move(digest));
  } catch (const dialogs::BounceTooEarly& e) {
    deps.log.Info("inbound mail deferred", {{"reason", e.what()}});
    out.retry = JsonError(http::status::service_unavailable, "retry_later",
                          "the bounced message's send is still being recorded; send it again");
  }
  co_return out;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Page(std::string_view text, std::string_view form_action) {
  std::string html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p>";
  html += text;  // catalogue text: ours, not the sender's
  html += "</p>";
  if (!form_action.empty()) {
    html += "<form method=\"post\" action=\"" + std::string(form_action) +
            "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">"
            "退订 / Unsubscribe</button></form>";
  }
  html += "</body></html>";
  return html;
}

}  // namespace

void AddEmailRoutes(Router& router, const EmailDeps& deps) {
  const std::size_t limit = deps.limits.max_bytes + (64U << 10U);  // room for the form around it

  router.Add(
      http::verb::post, "/email/inbound/{secret}",
      [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
        const auto segments = PathSegments(req.target());
        if (deps.inbound_secret.empty() || segments.size() != 3 ||
            !ConstantTimeEquals(segments[2], deps.inbound_secret)) {
          co_return JsonError(http::status::not_found, "not_found", "no such route");
        }
        auto mail = email::ParseMail(req.body(), deps.limits);
        if (!mail) co_return RefuseParse(deps.log, mail.error(), http::status::bad_request);
        std::string digest = Sha256Hex(req.body());
        Taken taken = co_await IngestOrRetry(deps, std::move(*mail), std::move(digest));
        if (taken.retry) co_return std::move(*taken.retry);
        co_return JsonResponse(http::status::ok, {{"status", taken.done.duplicate ? "duplicate" : "accepted"}});
      },
      limit);

  router.Add(
      http::verb::post, "/email/mailgun",
      [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
        if (deps.mailgun_signing_key.empty()) {
          co_return JsonError(http::status::service_unavailable, "channel_not_configured",
                              "email.mailgun_signing_key is not set");
        }
        auto form = email::ParseFormData(req.body(), req[http::field::content_type], deps.limits);
        // 406 tells Mailgun not to retry: the same body will not parse any better.
        if (!form) co_return RefuseParse(deps.log, form.error(), http::status::not_acceptable);
        const std::string timestamp(form->Get("timestamp"));
        const std::string token(form->Get("token"));
        if (!email::MailgunSignatureValid(deps.mailgun_signing_key, timestamp, token, form->Get("signature"))) {
          // 403, not 406: Mailgun retries for hours, time to fix a wrong key without losing mail.
          co_return RefuseMail(deps.log, http::status::forbidden, "signature_mismatch",
                               "Mailgun signature does not match");
        }
        const auto sent_at = ParseInt(timestamp);
        const auto now_s = ToUnixMillis(deps.clock.Now()) / 1000;
        if (!sent_at || std::abs(now_s - *sent_at) > deps.mailgun_max_age.count()) {
          co_return RefuseMail(deps.log, http::status::not_acceptable, "stale_timestamp",
                               "the webhook's timestamp is too far from now");
        }
        if (deps.used_tokens != nullptr && deps.used_tokens->Seen(token)) {
          co_return RefuseMail(deps.log, http::status::not_acceptable, "replayed_token", "this webhook token was used");
        }
        auto mail = email::MailgunMail(*form, deps.limits);
        if (!mail) co_return RefuseParse(deps.log, mail.error(), http::status::not_acceptable);
        std::string digest = Sha256Hex(req.body());
        Taken taken = co_await IngestOrRetry(deps, std::move(*mail), std::move(digest));
        if (taken.retry) co_return std::move(*taken.retry);
        // Remembered once processed: a delivery we failed to take can still be retried.
        if (deps.used_tokens != nullptr) deps.used_tokens->Remember(token);
        co_return JsonResponse(http::status::ok, {{"status", taken.done.duplicate ? "duplicate" : "accepted"}});
      },
      limit);

  const auto unsubscribe_target = [deps](const HttpRequest& req) -> std::optional<std::int64_t> {
    const auto segments = PathSegments(req.target());
    if (segments.size() != 3) return std::nullopt;
    return email::OutboxIdOfToken(segments[2], deps.token_secret);
  };
  router.Add(http::verb::get, "/email/unsubscribe/{token}",
             [deps, unsubscribe_target](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               // A GET never unsubscribes: link scanners and previews follow links.
               if (!unsubscribe_target(req)) {
                 co_return JsonError(http::status::not_found, "not_found", "no such unsubscribe link");
               }
               co_return TextResponse(
                   http::status::ok,
                   Page(deps.catalogue.Text(dialogs::Catalogue::kDefaultLocale, "email.footer.unsubscribe"),
                        TargetPath(req.target())),
                   "text/html; charset=utf-8");
             });
  router.Add(http::verb::post, "/email/unsubscribe/{token}",
             [deps, unsubscribe_target](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto id = unsubscribe_target(req);
               if (!id) co_return JsonError(http::status::not_found, "not_found", "no such unsubscribe link");
               const auto now = deps.clock.Now();
               const auto job = [&](store::Connection& c) -> std::optional<std::string> {
                 auto msg = OurMail(c, *id);
                 if (!msg) return std::nullopt;
                 dialogs::UnsubscribeEmail(c, msg->recipient, "email:one-click", now);
                 return msg->recipient;
               };
               const auto address = co_await deps.writer.Run(job);
               if (!address) co_return JsonError(http::status::not_found, "not_found", "no such unsubscribe link");
               deps.log.Info("email unsubscribed", {{"address", MaskEmail(*address)}, {"source", "one-click"}});
               co_return TextResponse(
                   http::status::ok,
                   Page(deps.catalogue.Text(dialogs::Catalogue::kDefaultLocale, "email.unsubscribe_page"), ""),
                   "text/html; charset=utf-8");
             });
}

}  // namespace duijie::bot
