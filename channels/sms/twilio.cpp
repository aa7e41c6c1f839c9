#include <nlohmann/json.hpp>

#include "channels/sms/provider_util.hpp"
#include "channels/sms/providers.hpp"
#include "common/digest.hpp"

namespace duijie::channels::sms {
namespace {

using nlohmann::json;
using store::AttemptOutcome;

// Twilio error codes (REST API): 20429 too many requests, 30001 queue overflow are worth another
// try; 21211 invalid number, 21610 the recipient replied STOP, 21408 region not enabled are not.
AttemptOutcome Classify(int status, int code) {
  if (status == 429 || code == 20429 || code == 30001) return AttemptOutcome::kRetryable;
  return AttemptOutcome::kFailed;
}

}  // namespace

net::awaitable<store::AttemptRecord> TwilioProvider::Send(const SmsRequest& req) {
  Params form = {{"To", req.phone}, {"Body", req.rendered.text}};
  if (!settings_.messaging_service_sid.empty()) {
    form.emplace_back("MessagingServiceSid", settings_.messaging_service_sid);
  } else {
    form.emplace_back("From", settings_.from);
  }
  if (!settings_.status_callback.empty()) form.emplace_back("StatusCallback", settings_.status_callback);
  ClientRequest http;
  http.method = "POST";
  http.url = settings_.endpoint + "/2010-04-01/Accounts/" + settings_.account_sid + "/Messages.json";
  http.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Authorization", "Basic " + Base64Encode(settings_.account_sid + ":" + settings_.auth_token)}};
  http.body = FormEncode(form);
  http.timeout = settings_.timeout;
  auto res = co_await http_.Send(std::move(http));
  if (!res) co_return detail::TransportFailure(Name(), res.error());
  if (auto failed = detail::HttpFailure(Name(), res->status)) co_return *failed;
  const json answer = json::parse(res->body, nullptr, false);
  if (!answer.is_object()) {
    co_return detail::Outcome(Name(), AttemptOutcome::kUnknown,
                              "unreadable answer, HTTP " + std::to_string(res->status));
  }
  if (res->status == 200 || res->status == 201) {
    co_return detail::Outcome(Name(), AttemptOutcome::kSent, "", "twilio:" + answer.value("sid", ""));
  }
  const int code = answer.value("code", 0);
  co_return detail::Outcome(Name(), Classify(res->status, code),
                            std::to_string(code) + " " + answer.value("message", ""));
}

net::awaitable<LookupResult> TwilioProvider::Lookup(const std::string& phone, const std::string& /*session*/,
                                                    std::chrono::seconds attempt_age, const std::string& text) {
  LookupResult out;
  // Newest first; a number gets few messages from us, so one page reaches back far enough.
  ClientRequest http;
  http.method = "GET";
  http.url = settings_.endpoint + "/2010-04-01/Accounts/" + settings_.account_sid + "/Messages.json?" +
             FormEncode({{"PageSize", "50"}, {"To", phone}});
  http.headers = {{"Authorization", "Basic " + Base64Encode(settings_.account_sid + ":" + settings_.auth_token)}};
  http.timeout = settings_.timeout;
  auto res = co_await http_.Send(std::move(http));
  if (!res || res->status != 200) co_return out;
  const json answer = json::parse(res->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("messages") || !answer["messages"].is_array()) co_return out;
  for (const auto& m : answer["messages"]) {
    if (!m.is_object() || m.value("to", "") != phone || m.value("body", "") != text) continue;
    out.recovery = store::Recovery::kWasSent;
    out.provider_ref = "twilio:" + m.value("sid", "");
    out.sent_status = m.value("status", "") == "delivered" ? "delivered" : "sent";
    co_return out;
  }
  if (attempt_age >= kListedWithin) out.recovery = store::Recovery::kWasLost;
  co_return out;
}

}  // namespace duijie::channels::sms
