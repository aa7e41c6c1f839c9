#pragma once
#include <chrono>
#include <iosfwd>
#include <string>

#include "bot/config.hpp"

namespace duijie::bot {

struct ChatOptions {
  std::string channel = "wecom";
  std::string user;
  std::string url;  // empty: http://<http.listen>
  std::chrono::milliseconds timeout{10'000};
};

/// `duijie chat`: talks to a running gateway as the provider would — for WeCom it signs and
/// encrypts each line with the configured token and key, posts it to /wecom/callback, and prints
/// the decrypted reply. Lines starting with '/' are commands: /subscribe, /enter, /click KEY,
/// /quit. Returns the exit code.
int RunChat(const Config& config, const ChatOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace duijie::bot
