#include "channels/wecom/sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "channels/wecom/message.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;
constexpr auto kRefreshBefore = std::chrono::minutes(5);

bool TokenRejected(int errcode) { return errcode == 40014 || errcode == 42001 || errcode == 42007 || errcode == 42009; }
bool RateLimited(int errcode) { return errcode == 45009 || errcode == 45033 || errcode == 45011; }

store::AttemptRecord Record(store::AttemptOutcome outcome, std::string ref, std::string error) {
  return {outcome, "wecom", std::move(ref), std::move(error)};
}

}  // namespace

net::awaitable<Result<std::string>> AccessTokenCache::Get() {
  if (!token_.empty() && clock_.Now() + kRefreshBefore < expires_at_) co_return token_;
  if (inflight_) {
    // Someone is fetching: wait for that fetch instead of starting another (single flight).
    auto timer = inflight_;
    co_await timer->async_wait(net::as_tuple(net::use_awaitable));
    co_return last_fetch_;
  }
  inflight_ =
      std::make_shared<net::steady_timer>(co_await net::this_coro::executor, net::steady_timer::time_point::max());
  last_fetch_ = co_await Fetch();
  auto done = std::move(inflight_);
  done->cancel();
  co_return last_fetch_;
}

void AccessTokenCache::Invalidate(const std::string& token) {
  if (token == token_) token_.clear();
}

net::awaitable<Result<std::string>> AccessTokenCache::Fetch() {
  ++fetches_;
  ClientRequest req;
  req.url = settings_.api_base + "/cgi-bin/gettoken?corpid=" + settings_.corp_id + "&corpsecret=" + settings_.secret;
  req.timeout = settings_.timeout;
  auto res = co_await http_.Send(req);
  if (!res) co_return res.error();
  json body = json::parse(res->body, nullptr, false);
  if (res->status != 200 || !body.is_object()) {
    co_return Error(Errc::kUnavailable, "gettoken: HTTP " + std::to_string(res->status));
  }
  const int errcode = body.value("errcode", -1);
  if (errcode != 0 || !body.contains("access_token")) {
    // 40001 (bad secret) and 40013 (bad corp id) are configuration errors: reported, not retried
    // in a loop — the next Get() after the caller's backoff tries again.
    co_return Error(errcode == 40001 || errcode == 40013 ? Errc::kPermissionDenied : Errc::kUnavailable,
                    "gettoken: errcode " + std::to_string(errcode) + " " + body.value("errmsg", ""));
  }
  token_ = body["access_token"].get<std::string>();
  expires_at_ = clock_.Now() + std::chrono::seconds(body.value("expires_in", 7200));
  co_return token_;
}

net::awaitable<store::AttemptRecord> Sender::Send(const store::OutboxMessage& msg) {
  dialogs::OutboundMessage out;
  try {
    out = json::parse(msg.payload).get<dialogs::OutboundMessage>();
  } catch (const std::exception& e) {
    co_return Record(store::AttemptOutcome::kFailed, "", std::string("payload is not a message: ") + e.what());
  }
  json body{{"touser", msg.recipient},
            {"msgtype", "text"},
            {"agentid", std::atoi(settings_.agent_id.c_str())},
            {"text", {{"content", std::string(TruncateUtf8(out.text, 2048))}}}};
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto token = co_await tokens_.Get();
    if (!token) {
      co_return Record(store::AttemptOutcome::kRetryable, "", token.error().message);
    }
    ClientRequest req;
    req.method = "POST";
    req.url = settings_.api_base + "/cgi-bin/message/send?access_token=" + *token;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
    req.timeout = settings_.timeout;
    auto res = co_await http_.Send(req);
    if (!res) {
      // Not connected: nothing reached WeCom. Anything else: it may have been delivered.
      const bool unsent = res.error().code == Errc::kUnavailable || res.error().code == Errc::kInvalidArgument;
      co_return Record(unsent ? store::AttemptOutcome::kRetryable : store::AttemptOutcome::kUnknown, "",
                       res.error().message);
    }
    if (res->status >= 500)
      co_return Record(store::AttemptOutcome::kRetryable, "", "HTTP " + std::to_string(res->status));
    const json answer = json::parse(res->body, nullptr, false);
    if (!answer.is_object()) {
      co_return Record(store::AttemptOutcome::kUnknown, "", "unreadable answer, HTTP " + std::to_string(res->status));
    }
    const int errcode = answer.value("errcode", -1);
    const std::string errmsg = "errcode " + std::to_string(errcode) + " " + answer.value("errmsg", "");
    if (TokenRejected(errcode)) {
      tokens_.Invalidate(*token);
      continue;  // refresh and retry once
    }
    if (errcode == 0) {
      const std::string invalid = answer.value("invaliduser", "");
      if (!invalid.empty()) co_return Record(store::AttemptOutcome::kFailed, "", "invaliduser " + invalid);
      co_return Record(store::AttemptOutcome::kSent, answer.value("msgid", ""), "");
    }
    if (RateLimited(errcode) || errcode == -1) co_return Record(store::AttemptOutcome::kRetryable, "", errmsg);
    co_return Record(store::AttemptOutcome::kFailed, "", errmsg);
  }
  co_return Record(store::AttemptOutcome::kRetryable, "", "access token rejected twice");
}

net::awaitable<LookupResult> Sender::Lookup(const store::OutboxMessage&) {
  // WeCom offers no way to ask whether an app message was accepted: stay unknown, never resend.
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::wecom
