#pragma once
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "channels/http_client.hpp"
#include "channels/sender.hpp"
#include "channels/wecom/render.hpp"
#include "common/clock.hpp"

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

/// Sends outbox messages as WeCom app messages (message/send; update_template_card for a
/// card_update), rendered by RenderAppMessage; a long text goes out as several messages. Errors are classified:
/// a rejected token is refreshed and the send retried once; rate limits (45009, 45033), server
/// errors and unreachable API are retryable; an invalid recipient or a refused message is final;
/// a member WeCom lists in `invaliduser` is reported by id (final when nobody was reached);
/// a timeout after the request left is unknown (WeCom has no API to ask, so it is not resent).
class Sender final : public channels::Sender {
 public:
  Sender(HttpClient& http, const Clock& clock, ApiSettings settings)
      : http_(http), settings_(settings), tokens_(http, clock, std::move(settings)) {}

  [[nodiscard]] std::string_view Name() const override { return "wecom"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

  [[nodiscard]] const AccessTokenCache& Tokens() const { return tokens_; }

 private:
  // One API call with the token protocol and the error classification.
  net::awaitable<store::AttemptRecord> Call(const ApiCall& call, std::string_view recipient);

  HttpClient& http_;
  ApiSettings settings_;
  AccessTokenCache tokens_;
};

}  // namespace duijie::channels::wecom
