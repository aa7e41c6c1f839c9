#include "channels/wecom/api_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;
constexpr auto kRefreshBefore = std::chrono::minutes(5);

bool TokenRejected(int errcode) {
  return errcode == 40014 || errcode == 41001 || errcode == 42001 || errcode == 42007 || errcode == 42009;
}
bool RateLimited(int errcode) { return errcode == 45009 || errcode == 45033 || errcode == 45011; }

ApiResult Failed(store::AttemptOutcome outcome, std::string error, int errcode = 0) {
  ApiResult r;
  r.outcome = outcome;
  r.errcode = errcode;
  r.error = std::move(error);
  return r;
}

bool IsJson(const ClientResponse& res) {
  for (const auto& [name, value] : res.headers) {
    if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) {
      return value.find("json") != std::string::npos || value.find("text/plain") != std::string::npos;
    }
  }
  return true;  // no type: read it as JSON (WeCom's errors)
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

net::awaitable<ApiResult> ApiClient::PostJson(std::string_view path, const json& body) {
  ClientRequest req;
  req.method = "POST";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body.dump();
  co_return co_await Call(std::move(req), path, "");
}

net::awaitable<ApiResult> ApiClient::Get(std::string_view path, std::string_view query, std::size_t max_bytes) {
  ClientRequest req;
  req.max_response_bytes = max_bytes;
  co_return co_await Call(std::move(req), path, query);
}

net::awaitable<ApiResult> ApiClient::Call(ClientRequest base, std::string_view path, std::string_view query) {
  base.timeout = settings_.timeout;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto token = co_await tokens_.Get();
    if (!token) co_return Failed(store::AttemptOutcome::kRetryable, token.error().message);
    ClientRequest req = base;
    req.url = settings_.api_base + std::string(path) + "?access_token=" + *token;
    if (!query.empty()) req.url += "&" + std::string(query);
    auto res = co_await http_.Send(std::move(req));
    if (!res) {
      if (res.error().code == Errc::kTooLarge) {
        co_return Failed(store::AttemptOutcome::kFailed,
                         "answer larger than " + std::to_string(base.max_response_bytes) + " bytes");
      }
      // Not connected: nothing reached WeCom. Anything else: it may have been delivered.
      const bool unsent = res.error().code == Errc::kUnavailable || res.error().code == Errc::kInvalidArgument;
      co_return Failed(unsent ? store::AttemptOutcome::kRetryable : store::AttemptOutcome::kUnknown,
                       res.error().message);
    }
    if (res->status >= 500) co_return Failed(store::AttemptOutcome::kRetryable, "HTTP " + std::to_string(res->status));
    if (res->status == 200 && !IsJson(*res)) {
      ApiResult bytes;
      bytes.raw = std::move(*res);
      co_return bytes;
    }
    json answer = json::parse(res->body, nullptr, false);
    if (!answer.is_object()) {
      co_return Failed(store::AttemptOutcome::kUnknown, "unreadable answer, HTTP " + std::to_string(res->status));
    }
    const int errcode = answer.value("errcode", -1);
    if (TokenRejected(errcode)) {
      tokens_.Invalidate(*token);
      continue;  // refresh and retry once
    }
    ApiResult result;
    result.errcode = errcode;
    if (errcode != 0) {
      result.error = "errcode " + std::to_string(errcode) + " " + answer.value("errmsg", "");
      result.outcome =
          RateLimited(errcode) || errcode == -1 ? store::AttemptOutcome::kRetryable : store::AttemptOutcome::kFailed;
    }
    result.answer = std::move(answer);
    result.raw = std::move(*res);
    co_return result;
  }
  co_return Failed(store::AttemptOutcome::kRetryable, "access token rejected twice");
}

}  // namespace duijie::channels::wecom
