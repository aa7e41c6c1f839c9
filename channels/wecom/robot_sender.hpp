#pragma once
#include <map>
#include <string>

#include "channels/http_client.hpp"
#include "channels/sender.hpp"

namespace duijie::channels::wecom {

struct RobotSettings {
  std::string api_base = "https://qyapi.weixin.qq.com";
  std::map<std::string, std::string> keys;  // robot name -> webhook key
  std::chrono::milliseconds timeout{5'000};
};

/// Sends outbox messages of channel `wecom_robot` into WeCom groups through a group robot's
/// webhook (spec §5). The recipient is the robot's configured name, never its key, so keys stay
/// out of the store and the logs. Text carries mentions (params.mentions, params.mention_mobiles);
/// long text and markdown go out in parts. The 20-a-minute limit per robot is the dispatcher's
/// recipient limit. 93000 (bad key) and unknown robot names are final; rate limits and server
/// errors are retryable.
class RobotSender final : public channels::Sender {
 public:
  RobotSender(HttpClient& http, RobotSettings settings) : http_(http), settings_(std::move(settings)) {}

  [[nodiscard]] std::string_view Name() const override { return "wecom_robot"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  /// A webhook cannot be asked about a message: an unknown outcome stays unknown.
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  HttpClient& http_;
  RobotSettings settings_;
};

}  // namespace duijie::channels::wecom
