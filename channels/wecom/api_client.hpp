#pragma once
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "channels/http_client.hpp"
#include "common/clock.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::channels::wecom {

struct ApiSettings {
  std::string api_base = "https://qyapi.weixin.qq.com";
  std::string corp_id;
  std::string secret;
  std::string agent_id;
  std::chrono::milliseconds timeout{5'000};
};

/// The app's access_token (Doc 91039): fetched with gettoken, cached until shortly before it
/// expires, fetched once for all concurrent callers (single flight), and invalidated only if the
/// token a caller saw rejected is still the current one (compare-and-swap), so a burst of
/// 40014/42001 answers causes one refresh, not one per message. Use from one strand.
class AccessTokenCache {
 public:
  AccessTokenCache(HttpClient& http, const Clock& clock, ApiSettings settings)
      : http_(http), clock_(clock), settings_(std::move(settings)) {}

  net::awaitable<Result<std::string>> Get();
  void Invalidate(const std::string& token);
  [[nodiscard]] int Fetches() const { return fetches_; }

 private:
  net::awaitable<Result<std::string>> Fetch();

  HttpClient& http_;
  const Clock& clock_;
  ApiSettings settings_;
  std::string token_;
  Clock::TimePoint expires_at_{};
  std::shared_ptr<net::steady_timer> inflight_;  // set while a fetch runs; waiters wait on it
  Result<std::string> last_fetch_{Error(Errc::kUnavailable, "not fetched")};
  int fetches_ = 0;
};

/// How one API call ended, classified the way the outbox needs it.
struct ApiResult {
  store::AttemptOutcome outcome = store::AttemptOutcome::kSent;  // kSent: errcode 0 (or media bytes)
  int errcode = 0;
  std::string error;      // for the attempt record; never contains the token
  nlohmann::json answer;  // the JSON answer, when there was one
  ClientResponse raw;     // the response as received (media/get answers bytes)
};

/// Calls the WeCom server API with the app's token: a rejected token (40014, 41001, 42001, 42007,
/// 42009) is refreshed once and the call repeated; rate limits (45009, 45011, 45033), busy (-1),
/// 5xx and unreachable are retryable; a timeout after the request left is unknown; any other
/// errcode is final. Shared by everything that talks to the API (app messages, kf, media), so
/// they share one token. Use from one strand.
class ApiClient {
 public:
  ApiClient(HttpClient& http, const Clock& clock, ApiSettings settings)
      : http_(http), settings_(settings), tokens_(http, clock, std::move(settings)) {}

  /// POST `body` as JSON to `path` (e.g. "/cgi-bin/message/send").
  net::awaitable<ApiResult> PostJson(std::string_view path, const nlohmann::json& body);
  /// GET `path` with `query` (without the token), keeping a non-JSON answer as bytes.
  net::awaitable<ApiResult> Get(std::string_view path, std::string_view query, std::size_t max_bytes);

  [[nodiscard]] const ApiSettings& Settings() const { return settings_; }
  [[nodiscard]] const AccessTokenCache& Tokens() const { return tokens_; }

 private:
  net::awaitable<ApiResult> Call(ClientRequest base, std::string_view path, std::string_view query);

  HttpClient& http_;
  ApiSettings settings_;
  AccessTokenCache tokens_;
};

}  // namespace duijie::channels::wecom
