#include "bot/handlers/sms_handler.hpp"

#include "bot/http/responses.hpp"
#include "channels/sms/callbacks.hpp"
#include "channels/sms/providers.hpp"
#include "common/digest.hpp"
#include "dialogs/sms_replies.hpp"
#include "store/inbox_repository.hpp"

namespace duijie::bot {
namespace {

namespace sms = channels::sms;

HttpResponse Refuse(const Logger& log, http::status status, std::string_view code, std::string_view message) {
  log.Warn("sms callback refused", {{"code", code}, {"reason", message}});
  return JsonError(status, code, message);
}

// The unsigned callbacks' protection: the secret path segment and the optional allow-list.
// A wrong secret looks like any unknown path.
std::optional<HttpResponse> CheckUnsigned(const SmsDeps& deps, const HttpRequest& req) {
  const auto segments = PathSegments(req.target());
  if (deps.callback_secret.empty() || segments.size() != 4 || !ConstantTimeEquals(segments[2], deps.callback_secret)) {
    return JsonError(http::status::not_found, "not_found", "no such route");
  }
  if (!deps.allow_ips.empty()) {
    const std::string peer(req[kPeerAddressField]);
    if (std::find(deps.allow_ips.begin(), deps.allow_ips.end(), peer) == deps.allow_ips.end()) {
      return Refuse(deps.log, http::status::forbidden, "source_not_allowed", "source address not in sms.allow_ips");
    }
  }
  return std::nullopt;
}

// Twilio signs the public URL it called plus every form parameter (spec §3.3).
Result<sms::Params> CheckTwilio(const SmsDeps& deps, const HttpRequest& req) {
  if (deps.twilio_auth_token.empty()) return Error(Errc::kUnavailable, "Twilio is not configured");
  auto form = sms::FormDecode(req.body());
  if (!form) return Error(Errc::kInvalidArgument, "body is not a form");
  const std::string target(req.target());
  const std::string url = deps.public_base_url + target;  // the raw target: never re-encoded
  if (!sms::TwilioValidate(deps.twilio_auth_token, req["X-Twilio-Signature"], url, *form)) {
    return Error(Errc::kPermissionDenied, "X-Twilio-Signature does not match");
  }
  return std::move(*form);
}

HttpResponse RefuseError(const Logger& log, const Error& e) {
  if (e.code == Errc::kUnavailable) {
    return JsonError(http::status::service_unavailable, "channel_not_configured", e.message);
  }
  if (e.code == Errc::kPermissionDenied) return Refuse(log, http::status::forbidden, "signature_mismatch", e.message);
  return Refuse(log, http::status::bad_request, "malformed_callback", e.message);
}

struct Ingested {
  int receipts = 0;
  bool queued = false;
};

// Receipts and replies of one callback, each through the inbox, all in one transaction: the
// provider's retry of the whole batch changes nothing.
// Everything by value and named at the call: GCC 12 mishandles temporaries across co_await.
net::awaitable<Ingested> Ingest(const SmsDeps& deps, std::string provider, std::vector<sms::Receipt> receipts,
                                std::vector<sms::Incoming> incoming) {
  const auto now = deps.clock.Now();
  const auto now_ms = ToUnixMillis(now);
  const auto job = [&](store::Connection& c) {
    Ingested out;
    for (const auto& r : receipts) {
      const nlohmann::json payload = {
          {"kind", "status"}, {"provider_ref", r.provider_ref}, {"delivered", r.delivered}, {"reason", r.reason}};
      const auto entry = store::InboxRepository::Begin(c, {"sms", r.key, "", payload.dump(), std::nullopt}, now_ms);
      if (entry.duplicate) continue;
      const bool changed =
          store::OutboxRepository::RecordDelivery(c, r.provider_ref, r.outbox_id, r.delivered, r.reason, now_ms)
              .has_value();
      out.queued = out.queued || (changed && !r.delivered);  // a failed delivery may queue a fallback
      store::InboxRepository::Complete(c, entry.id, changed ? "processed" : "ignored", {200, "", ""}, now_ms);
      ++out.receipts;
    }
    for (const auto& m : incoming) {
      dialogs::InboundEvent event{"sms", m.number, "text", m.text, std::nullopt, std::nullopt, {}};
      const auto entry = store::InboxRepository::Begin(
          c, {"sms", m.key, m.number, nlohmann::json(event).dump(), std::nullopt}, now_ms);
      if (entry.duplicate) continue;
      if (deps.conversations != nullptr) {
        const auto result = dialogs::ProcessSmsReply(c, *deps.conversations, dialogs::Catalogue::Embedded(),
                                                     {m.number, m.text, provider, m.key}, now);
        for (auto msg : result.outbox) {
          msg.inbox_id = entry.id;
          store::OutboxRepository::Enqueue(c, msg, now_ms);
          out.queued = true;
        }
      }
      store::InboxRepository::Complete(c, entry.id, "processed", {200, "", ""}, now_ms);
    }
    return out;
  };
  const Ingested out = co_await deps.writer.Run(job);
  if (out.queued && deps.outbox_notify) deps.outbox_notify();
  co_return out;
}

}  // namespace

void AddSmsRoutes(Router& router, const SmsDeps& deps) {
  const auto tencent_ack = [] {
    return TextResponse(http::status::ok, std::string(sms::kTencentAck), "application/json");
  };
  const auto aliyun_ack = [] {
    return TextResponse(http::status::ok, std::string(sms::kAliyunAck), "application/json");
  };

  router.Add(http::verb::post, "/sms/tencent/{secret}/status",
             [deps, tencent_ack](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               if (auto refused = CheckUnsigned(deps, req)) co_return std::move(*refused);
               auto receipts = sms::ParseTencentReceipts(req.body());
               if (!receipts) co_return RefuseError(deps.log, receipts.error());
               std::vector<sms::Incoming> none;
               co_await Ingest(deps, std::string("tencent"), std::move(*receipts), std::move(none));
               co_return tencent_ack();
             });
  router.Add(http::verb::post, "/sms/tencent/{secret}/reply",
             [deps, tencent_ack](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               if (auto refused = CheckUnsigned(deps, req)) co_return std::move(*refused);
               auto reply = sms::ParseTencentReply(req.body());
               if (!reply) co_return RefuseError(deps.log, reply.error());
               std::vector<sms::Incoming> one{std::move(*reply)};
               std::vector<sms::Receipt> none;
               co_await Ingest(deps, std::string("tencent"), std::move(none), std::move(one));
               co_return tencent_ack();
             });
  router.Add(http::verb::post, "/sms/aliyun/{secret}/report",
             [deps, aliyun_ack](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               if (auto refused = CheckUnsigned(deps, req)) co_return std::move(*refused);
               auto receipts = sms::ParseAliyunReports(req.body());
               if (!receipts) co_return RefuseError(deps.log, receipts.error());
               std::vector<sms::Incoming> none;
               co_await Ingest(deps, std::string("aliyun"), std::move(*receipts), std::move(none));
               co_return aliyun_ack();
             });
  router.Add(http::verb::post, "/sms/aliyun/{secret}/up",
             [deps, aliyun_ack](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               if (auto refused = CheckUnsigned(deps, req)) co_return std::move(*refused);
               auto ups = sms::ParseAliyunUps(req.body());
               if (!ups) co_return RefuseError(deps.log, ups.error());
               std::vector<sms::Receipt> none;
               co_await Ingest(deps, std::string("aliyun"), std::move(none), std::move(*ups));
               co_return aliyun_ack();
             });
  router.Add(http::verb::post, "/sms/twilio/inbound", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    auto form = CheckTwilio(deps, req);
    if (!form) co_return RefuseError(deps.log, form.error());
    auto incoming = sms::ParseTwilioInbound(*form);
    if (!incoming) co_return RefuseError(deps.log, incoming.error());
    std::vector<sms::Incoming> one{std::move(*incoming)};
    std::vector<sms::Receipt> none;
    co_await Ingest(deps, std::string("twilio"), std::move(none), std::move(one));
    // Answers go out through the outbox (REST), so a slow conversation never delays the webhook.
    co_return TextResponse(http::status::ok, std::string(sms::kTwiMlEmpty), "text/xml");
  });
  router.Add(http::verb::post, "/sms/twilio/status", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    auto form = CheckTwilio(deps, req);
    if (!form) co_return RefuseError(deps.log, form.error());
    auto receipt = sms::ParseTwilioStatus(*form);
    if (!receipt) co_return RefuseError(deps.log, receipt.error());
    std::vector<sms::Receipt> receipts;
    if (*receipt) receipts.push_back(std::move(**receipt));
    std::vector<sms::Incoming> none;
    co_await Ingest(deps, std::string("twilio"), std::move(receipts), std::move(none));
    co_return TextResponse(http::status::ok, std::string(sms::kTwiMlEmpty), "text/xml");
  });
}

}  // namespace duijie::bot
