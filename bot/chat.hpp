#pragma once
#include <chrono>
#include <iosfwd>
#include <string>

#include "bot/config.hpp"

namespace duijie::bot {

struct ChatOptions {
  std::string channel = "wecom";
  std::string user;                  // WeCom UserID (--channel wecom)
  std::string from;                  // E.164 mobile (--channel sms) or address (--channel email)
  std::string provider = "tencent";  // whose reply callback to play: tencent, aliyun, twilio
  std::string url;                   // empty: http://<http.listen>
  std::chrono::milliseconds timeout{10'000};
};

/// `duijie chat`: talks to a running gateway as the provider would — for WeCom it signs and
/// encrypts each line with the configured token and key, posts it to /wecom/callback, and prints
/// the decrypted reply. Lines starting with '/' are commands: /subscribe, /enter, /click KEY,
/// /quit. For SMS it posts each line as the provider's reply callback (Tencent or Alibaba with
/// the configured callback secret, Twilio signed with the auth token) and prints the SMS answers
/// the gateway queued for the number, read from its database (SMS answers go out asynchronously;
/// they are queued before the callback is acknowledged). For email it posts each line as a mail
/// (raw MIME, threaded under the last mail the gateway sent to the address) to
/// /email/inbound/<email.inbound_secret> and prints the mail queued in answer: subject and text.
/// Returns the exit code.
int RunChat(const Config& config, const ChatOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace duijie::bot
