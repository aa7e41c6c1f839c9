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

HttpResponse RefuseSms(const Logger& log, http::status status, std::string_view code, std::string_view message) {
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
      return RefuseSms(deps.log, http::status::forbidden, "source_not_allowed", "source address not in sms.allow_ips");
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
  if (e.code == Errc::kPermissionDenied)
    return RefuseSms(log, http::status::forbidden, "signature_mismatch", e.message);
  return RefuseSms(log, http::status::bad_request, "malformed_callback", e.message);
}

// A receipt for a message whose send is still being recorded.
struct RetryLater : std::runtime_error {
  RetryLater() : std::runtime_error("a receipt overtook its send") {}
};

// What one callback carries, whatever the provider.
struct Batch {
  std::vector<sms::Receipt> receipts;
  std::vector<sms::Incoming> incoming;
};

struct SmsIngested {
  int receipts = 0;
  bool queued = false;
};

// Receipts and replies of one callback, each through the inbox, all in one transaction: the
// provider's retry of the whole batch changes nothing.
// Everything by value and named at the call: GCC 12 mishandles temporaries across co_await.
net::awaitable<SmsIngested> Ingest(const SmsDeps& deps, std::string provider, Batch batch) {
  const auto now = deps.clock.Now();
  const auto now_ms = ToUnixMillis(now);
  const auto job = [&](store::Connection& c) {
    SmsIngested out;
    for (const auto& r : batch.receipts) {
      const nlohmann::json payload = {
          {"kind", "status"}, {"provider_ref", r.provider_ref}, {"delivered", r.delivered}, {"reason", r.reason}};
      const auto entry = store::InboxRepository::Begin(c, {"sms", r.key, "", payload.dump(), std::nullopt}, now_ms);
      if (entry.duplicate) continue;
      const auto taken = store::OutboxRepository::RecordDelivery(
          c, {r.provider_ref, r.outbox_id, "sms", r.number, r.delivered, r.reason}, now_ms);
      // Undo the whole batch (the writer rolls the job back) and let the provider send it again:
      // its message's send is still being recorded, or a crash came between the provider's
      // answer and our record of it.
      if (taken == store::OutboxRepository::Delivery::kInFlight) throw RetryLater();
      const bool changed = taken == store::OutboxRepository::Delivery::kRecorded;
      out.queued = out.queued || (changed && !r.delivered);  // a failed delivery may queue a fallback
      store::InboxRepository::Complete(c, entry.id, changed ? "processed" : "ignored", {200, "", ""}, now_ms);
      ++out.receipts;
    }
    for (const auto& m : batch.incoming) {
      dialogs::InboundEvent event{"sms", m.number, "text", m.text, std::nullopt, std::nullopt, {}};
      const auto entry = store::InboxRepository::Begin(
          c, {"sms", m.key, m.number, nlohmann::json(event).dump(), std::nullopt}, now_ms);
      if (entry.duplicate) continue;
      if (deps.conversations != nullptr) {
        // Without extension codes of ours, a provider's own (Alibaba's dest_code) names nothing.
        const bool ours = deps.extend_digits > 0 && m.extend.size() == static_cast<std::size_t>(deps.extend_digits);
        const auto result =
            dialogs::ProcessSmsReply(c, *deps.conversations, dialogs::Catalogue::Embedded(),
                                     {m.number, m.text, provider, m.key, ours ? m.extend : std::string()}, now);
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
  const SmsIngested out = co_await deps.writer.Run(job);
  if (out.queued && deps.outbox_notify) deps.outbox_notify();
  co_return out;
}

// Ingest, or the answer that makes the provider deliver the callback again later.
net::awaitable<std::optional<HttpResponse>> IngestOrRetry(const SmsDeps& deps, std::string provider, Batch batch) {
  try {
    co_await Ingest(deps, std::move(provider), std::move(batch));
  } catch (const RetryLater& e) {
    deps.log.Info("sms callback deferred", {{"reason", e.what()}});
    co_return JsonError(http::status::service_unavailable, "retry_later",
                        "a receipt arrived before its message's send was recorded; send it again");
  }
  co_return std::nullopt;
}

// One callback route: how it is protected, read and acknowledged.
struct CallbackRoute {
  std::string_view path;
  std::string_view provider;
  bool twilio_signed = false;  // else the secret path segment (and allow-list)
  std::string_view ack;
  std::string_view ack_type;
  Result<Batch> (*parse)(std::string_view body, const sms::Params& form);
};

// A parsed batch of receipts or of incoming messages as a Batch.
template <class T>
Result<Batch> AsBatch(Result<std::vector<T>> parsed) {
  if (!parsed) return parsed.error();
  if constexpr (std::is_same_v<T, sms::Receipt>) {
    return Batch{std::move(*parsed), {}};
  } else {
    return Batch{{}, std::move(*parsed)};
  }
}

// Twilio wants TwiML back; the answers themselves go out through the outbox (REST), so a slow
// conversation never delays the webhook.
const CallbackRoute kRoutes[] = {
    {"/sms/tencent/{secret}/status", "tencent", false, sms::kTencentAck, "application/json",
     [](std::string_view body, const sms::Params&) { return AsBatch(sms::ParseTencentReceipts(body)); }},
    {"/sms/tencent/{secret}/reply", "tencent", false, sms::kTencentAck, "application/json",
     [](std::string_view body, const sms::Params&) -> Result<Batch> {
       auto reply = sms::ParseTencentReply(body);
       if (!reply) return reply.error();
       return Batch{{}, {std::move(*reply)}};
     }},
    {"/sms/aliyun/{secret}/report", "aliyun", false, sms::kAliyunAck, "application/json",
     [](std::string_view body, const sms::Params&) { return AsBatch(sms::ParseAliyunReports(body)); }},
    {"/sms/aliyun/{secret}/up", "aliyun", false, sms::kAliyunAck, "application/json",
     [](std::string_view body, const sms::Params&) { return AsBatch(sms::ParseAliyunUps(body)); }},
    {"/sms/twilio/inbound", "twilio", true, sms::kTwiMlEmpty, "text/xml",
     [](std::string_view, const sms::Params& form) -> Result<Batch> {
       auto incoming = sms::ParseTwilioInbound(form);
       if (!incoming) return incoming.error();
       return Batch{{}, {std::move(*incoming)}};
     }},
    {"/sms/twilio/status", "twilio", true, sms::kTwiMlEmpty, "text/xml",
     [](std::string_view, const sms::Params& form) -> Result<Batch> {
       auto receipt = sms::ParseTwilioStatus(form);
       if (!receipt) return receipt.error();
       Batch batch;
       if (*receipt) batch.receipts.push_back(std::move(**receipt));  // only final statuses count
       return batch;
     }},
};

}  // namespace

void AddSmsRoutes(Router& router, const SmsDeps& deps) {
  for (const CallbackRoute& route : kRoutes) {
    router.Add(http::verb::post, std::string(route.path),
               [deps, &route](const HttpRequest& req) -> net::awaitable<HttpResponse> {
                 sms::Params form;
                 if (route.twilio_signed) {
                   auto checked = CheckTwilio(deps, req);
                   if (!checked) co_return RefuseError(deps.log, checked.error());
                   form = std::move(*checked);
                 } else if (auto refused = CheckUnsigned(deps, req)) {
                   co_return std::move(*refused);
                 }
                 auto batch = route.parse(req.body(), form);
                 if (!batch) co_return RefuseError(deps.log, batch.error());
                 std::string provider(route.provider);
                 if (auto retry = co_await IngestOrRetry(deps, std::move(provider), std::move(*batch))) {
                   co_return std::move(*retry);
                 }
                 co_return TextResponse(http::status::ok, std::string(route.ack), route.ack_type);
               });
  }
}

}  // namespace duijie::bot
