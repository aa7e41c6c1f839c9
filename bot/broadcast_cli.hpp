#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "bot/config.hpp"

namespace duijie::bot {

/// `duijie broadcast <create|preview|send|status|cancel|report|list>`: the admin API's broadcast
/// routes from a terminal, with a progress bar while one is sending.
struct BroadcastCommand {
  std::string action;
  std::optional<std::int64_t> id;
  std::string url;  // default http://<http.listen>
  // create
  std::string title;
  std::string text;
  std::string message_title;
  std::string template_key;
  std::string audience;  // JSON
  std::optional<std::int64_t> audience_id;
  std::vector<std::string> vars;  // name=value
  std::optional<int> ack_minutes;
  std::string channels;  // wecom,sms,email
  std::string send;      // now, a time, or empty (a draft)
  std::string key;       // Idempotency-Key
  // preview / report / status
  std::optional<std::int64_t> person;
  bool csv = false;
  bool follow = false;
  bool json = false;
  std::chrono::milliseconds interval{500};
  std::chrono::milliseconds timeout{10'000};
};

int RunBroadcast(const Config& config, const BroadcastCommand& command, std::ostream& out, std::ostream& err);

}  // namespace duijie::bot
