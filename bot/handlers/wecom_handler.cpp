#include "bot/handlers/wecom_handler.hpp"

#include <charconv>

#include <boost/url/parse.hpp>

#include "bot/http/responses.hpp"
#include "channels/wecom/media.hpp"
#include "channels/wecom/message.hpp"
#include "channels/wecom/render.hpp"
#include "store/inbox_repository.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::bot {
namespace {

namespace wecom = channels::wecom;

struct Query {
  std::string msg_signature;
  std::string timestamp;
  std::string nonce;
  std::string echostr;
};

// Percent-decodes exactly once; '+' stays '+' (base64 never contains a space).
std::optional<Query> ParseQuery(std::string_view target) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = false;
  Query q;
  for (const auto& param : url->params(opts)) {
    if (param.key == "msg_signature") {
      q.msg_signature = param.value;
    } else if (param.key == "timestamp") {
      q.timestamp = param.value;
    } else if (param.key == "nonce") {
      q.nonce = param.value;
    } else if (param.key == "echostr") {
      q.echostr = param.value;
    }
  }
  return q;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string_view::npos;
}
bool IsNonce(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
             std::string_view::npos;
}

HttpResponse RefuseWecom(const Logger& log, http::status status, std::string_view code, std::string_view message) {
  log.Warn("wecom callback refused", {{"code", code}, {"reason", message}});
  return JsonError(status, code, message);
}

// Maps a crypto error to the answer WeCom (or an attacker) gets. Authentication failures are
// 403, malformed input 400; none of them is retried usefully, none stores anything.
HttpResponse RefuseCrypto(const Logger& log, const Error& e) {
  const auto code = static_cast<wecom::CryptoErrc>(e.code.value());
  switch (code) {
    case wecom::CryptoErrc::kValidateSignature:
      return RefuseWecom(log, http::status::forbidden, "signature_mismatch", e.message);
    case wecom::CryptoErrc::kValidateReceiveId:
      return RefuseWecom(log, http::status::forbidden, "receive_id_mismatch", e.message);
    default:
      return RefuseWecom(log, http::status::bad_request, "malformed_callback",
                         e.message + " (WeCom code " + std::to_string(e.code.value()) + ")");
  }
}

// A message the callback queues for active sending, answering the member who called.
store::NewOutboxMessage Queued(std::string key, const wecom::CallbackMessage& msg, std::string kind,
                               const dialogs::OutboundMessage& out) {
  store::NewOutboxMessage m;
  m.idempotency_key = "wecom:" + std::move(key);
  m.channel = "wecom";
  m.recipient = msg.from_user;
  m.kind = std::move(kind);
  m.payload = nlohmann::json(out).dump();
  m.priority = 10;  // answers to a person waiting go before broadcasts
  return m;
}

HttpResponse SignatureMismatch(const Logger& log) {
  return RefuseCrypto(log, Error(make_error_code(wecom::CryptoErrc::kValidateSignature), "signature mismatch"));
}

// Checks what GET and POST share (configuration, query parameters, timestamp window); returns
// the refusal, or nothing when the request may go on.
std::optional<HttpResponse> CheckQuery(const WeComDeps& deps, const std::optional<Query>& q, bool with_echostr) {
  if (deps.crypto == nullptr) {
    return JsonError(http::status::service_unavailable, "channel_not_configured",
                     "WeCom is not configured: set wecom.corp_id, wecom.token and wecom.aes_key");
  }
  if (!q || q->msg_signature.size() != 40 || !IsDigits(q->timestamp) || !IsNonce(q->nonce) ||
      (with_echostr && q->echostr.empty())) {
    return RefuseWecom(deps.log, http::status::bad_request, "bad_query",
                       std::string("expected msg_signature, timestamp, nonce") + (with_echostr ? ", echostr" : ""));
  }
  std::int64_t ts = 0;
  std::from_chars(q->timestamp.data(), q->timestamp.data() + q->timestamp.size(), ts);
  const std::int64_t now = ToUnixMillis(deps.clock.Now()) / 1000;
  if (ts < now - deps.timestamp_window.count() || ts > now + deps.timestamp_window.count()) {
    return RefuseWecom(deps.log, http::status::forbidden, "stale_timestamp",
                       "timestamp is more than " + std::to_string(deps.timestamp_window.count()) + " s from now");
  }
  return std::nullopt;
}

}  // namespace

void AddWeComRoutes(Router& router, const WeComDeps& deps) {
  router.Add(http::verb::get, "/wecom/callback", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto q = ParseQuery(req.target());
    if (auto refused = CheckQuery(deps, q, true)) co_return std::move(*refused);
    if (!deps.crypto->Verify(q->msg_signature, q->timestamp, q->nonce, q->echostr)) {
      co_return SignatureMismatch(deps.log);
    }
    auto plain = deps.crypto->Decrypt(q->echostr);
    if (!plain) co_return RefuseCrypto(deps.log, plain.error());
    // WeCom wants the bare echostr: no quotes, no newline.
    co_return TextResponse(http::status::ok, std::move(*plain), "text/plain; charset=utf-8");
  });

  router.Add(http::verb::post, "/wecom/callback", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto q = ParseQuery(req.target());
    if (auto refused = CheckQuery(deps, q, false)) co_return std::move(*refused);
    auto encrypt = wecom::ParseEnvelope(req.body());
    if (!encrypt) co_return RefuseCrypto(deps.log, encrypt.error());
    if (!deps.crypto->Verify(q->msg_signature, q->timestamp, q->nonce, *encrypt)) {
      co_return SignatureMismatch(deps.log);
    }
    if (deps.replay != nullptr && !deps.replay->Admit(q->nonce, q->msg_signature)) {
      co_return RefuseWecom(deps.log, http::status::forbidden, "replayed_nonce",
                            "nonce already used for another message");
    }
    auto plain = deps.crypto->Decrypt(*encrypt);
    if (!plain) co_return RefuseCrypto(deps.log, plain.error());
    auto msg = wecom::ParsePlaintext(*plain);
    if (!msg) co_return RefuseCrypto(deps.log, msg.error());

    const auto event = wecom::ToInboundEvent(*msg);
    const std::string dedupe_key = wecom::DedupeKey(*msg);
    std::vector<store::NewOutboxMessage> queued;
    if (auto update = wecom::CardUpdateAfterClick(
            *msg, deps.catalogue.Text(dialogs::Catalogue::kDefaultLocale, "wecom.card_clicked"))) {
      queued.push_back(Queued(dedupe_key + ":card_update", *msg, "card_update", *update));
    }
    const bool kf_news = msg->msg_type == "event" && msg->event == "kf_msg_or_event";
    if (kf_news && !msg->open_kf_id.empty()) {
      // 微信客服 has news but does not say what: pull it (KfSync) through the outbox.
      auto sync = Queued(dedupe_key + ":kf_sync", *msg, "kf_sync",
                         dialogs::OutboundMessage{"kf_sync", "", std::nullopt, std::nullopt, {{"token", msg->token}}});
      sync.channel = "wecom_kf_sync";
      sync.recipient = msg->open_kf_id;
      sync.priority = 20;
      queued.push_back(std::move(sync));
    }
    if (!msg->media_id.empty() &&
        (msg->msg_type == "image" || msg->msg_type == "file" || msg->msg_type == "voice" || msg->msg_type == "video")) {
      // Contracts, invoices and payment proofs arrive as files: fetch and keep them (MediaFetcher).
      queued.push_back(wecom::FetchMediaTask(msg->media_id, msg->msg_type, "wecom", dedupe_key));
    }
    const store::InboundRecord record{"wecom", dedupe_key, msg->from_user, nlohmann::json(event).dump(), std::nullopt};
    const auto now = deps.clock.Now();
    const auto now_ms = ToUnixMillis(now);
    struct Outcome {
      store::StoredReply reply;
      bool queued = false;
    };
    // The inbox row, the conversation step, its effects and what it queued commit together
    // (exactly once). The conversation needs the person's stored state, so it runs here, on the
    // writer; the reply is sealed here too, so a redelivery gets it back byte for byte.
    const bool converse = deps.conversations != nullptr && !kf_news;
    const auto ingest = [&](store::Connection& c) {
      auto entry = store::InboxRepository::Begin(c, record, now_ms);
      if (entry.duplicate) return Outcome{entry.reply.value_or(store::StoredReply{200, "text/plain", ""}), false};
      std::vector<store::NewOutboxMessage> all = queued;
      store::StoredReply reply{200, "text/plain", ""};
      bool queued_elsewhere = false;
      if (converse) {
        const auto processed = deps.conversations->Process(c, event, now);
        queued_elsewhere = processed.queued_elsewhere;
        all.insert(all.end(), processed.outbox.begin(), processed.outbox.end());
        std::string text;
        for (const auto& r : processed.replies) text += (text.empty() ? "" : "\n\n") + r;
        if (text.size() > wecom::kAppTextBytes) {
          // Too long for one passive reply (it would be cut): answer empty, send each whole.
          for (std::size_t i = 0; i < processed.replies.size(); ++i) {
            all.push_back(Queued(dedupe_key + ":reply:" + std::to_string(i), *msg, "reply",
                                 dialogs::TextMessage(processed.replies[i])));
          }
        } else if (!text.empty()) {
          reply.content_type = "application/xml";
          reply.body =
              deps.crypto->ReplyXml(wecom::TextReplyPlaintext(*msg, text, now_ms / 1000), q->timestamp, q->nonce);
        }
      }
      for (auto& m : all) {
        m.inbox_id = entry.id;
        store::OutboxRepository::Enqueue(c, m, now_ms);
      }
      store::InboxRepository::Complete(c, entry.id, "processed", reply, now_ms);
      return Outcome{reply, !all.empty() || queued_elsewhere};
    };
    const Outcome outcome = co_await deps.writer.Run(ingest);
    if (outcome.queued && deps.outbox_notify) deps.outbox_notify();
    const auto& answer = outcome.reply;
    co_return TextResponse(static_cast<http::status>(answer.status), answer.body, answer.content_type);
  });
}

}  // namespace duijie::bot
