#pragma once
#include <functional>
#include <string>

#include "bot/http/router.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "dialogs/conversations.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

/// SMS provider callbacks (DESIGN.md §4 "/sms/<provider>/..."):
///   POST /sms/tencent/{secret}/status   delivery receipts (JSON array)
///   POST /sms/tencent/{secret}/reply    a reply (JSON object)
///   POST /sms/aliyun/{secret}/report    SmsReport batch (JSON array)
///   POST /sms/aliyun/{secret}/up        SmsUp batch (JSON array)
///   POST /sms/twilio/inbound            a reply (form, X-Twilio-Signature), answered with TwiML
///   POST /sms/twilio/status             a status callback (form, X-Twilio-Signature)
/// Tencent and Alibaba sign nothing: the secret path segment (and the optional allow-list) is
/// the protection, and a wrong one gets the same 404 as an unknown path. Every receipt and reply
/// goes through the inbox, so a provider's retry changes nothing twice.
struct SmsDeps {
  store::Writer& writer;
  const Clock& clock;
  const Logger& log;
  std::string callback_secret;          // empty: the Tencent and Alibaba routes answer 404
  std::vector<std::string> allow_ips;   // empty: any source
  std::string twilio_auth_token;        // empty: the Twilio routes answer 503
  std::string public_base_url;          // what Twilio signs, e.g. https://duijie.example.cn
  std::function<void()> outbox_notify;  // may be empty
  const dialogs::Conversations* conversations = nullptr;
  int extend_digits = 0;  // sms.extend_code_digits: replies' extension codes are read only when on
};

void AddSmsRoutes(Router& router, const SmsDeps& deps);

}  // namespace duijie::bot
