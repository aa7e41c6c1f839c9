#include <array>

#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include "channels/sms/provider_util.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/signing.hpp"

namespace duijie::channels::sms {
namespace {

using nlohmann::json;
using store::AttemptOutcome;

constexpr std::string_view kContentType = "application/json; charset=utf-8";

bool StartsWithAny(std::string_view code, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return code.starts_with(p); });
}

// Spec §1.5; Tencent publishes no classification, this is ours.
AttemptOutcome Classify(std::string_view code) {
  if (code == "InternalError.Timeout") return AttemptOutcome::kUnknown;  // "request to send timed out"
  if (StartsWithAny(code, {"InternalError", "RequestLimitExceeded", "LimitExceeded.PhoneNumberThirtySecondLimit",
                           "LimitExceeded.PhoneNumberOneHourLimit", "LimitExceeded.PhoneNumberDailyLimit",
                           "LimitExceeded.PhoneNumberSameContentDailyLimit", "LimitExceeded.DeliveryFrequencyLimit",
                           "LimitExceeded.AppDailyLimit", "LimitExceeded.DailyLimit",
                           "FailedOperation.MarketingSendTimeConstraint"})) {
    return AttemptOutcome::kRetryable;
  }
  return AttemptOutcome::kFailed;  // AuthFailure.*, templates, signature, blacklist, bad number ...
}

}  // namespace

TencentProvider::TencentProvider(HttpClient& http, const Clock& clock, TencentSettings settings)
    : http_(http), clock_(clock), settings_(std::move(settings)), url_(settings_.endpoint) {
  if (auto u = boost::urls::parse_uri(settings_.endpoint)) host_ = std::string(u->host());
  if (!url_.ends_with('/')) url_ += '/';
}

net::awaitable<Result<ClientResponse>> TencentProvider::Call(std::string_view action, const std::string& body) {
  const auto timestamp = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  Tc3Input in;
  in.secret_id = settings_.secret_id;
  in.secret_key = settings_.secret_key;
  in.service = "sms";
  in.host = host_;
  in.content_type = kContentType;
  in.payload = body;
  in.timestamp = timestamp;
  ClientRequest req;
  req.method = "POST";
  req.url = url_;
  req.headers = {{"Content-Type", std::string(kContentType)},
                 {"X-TC-Action", std::string(action)},
                 {"X-TC-Version", "2021-01-11"},
                 {"X-TC-Timestamp", std::to_string(timestamp)},
                 {"X-TC-Region", settings_.region},
                 {"Authorization", SignTc3(in).authorization}};
  req.body = body;
  req.timeout = settings_.timeout;
  co_return co_await http_.Send(std::move(req));
}

net::awaitable<store::AttemptRecord> TencentProvider::Send(const SmsRequest& req) {
  const Template& t = *req.rendered.tmpl;
  if (t.tencent_id.empty()) {
    co_return detail::Outcome(Name(), AttemptOutcome::kFailed,
                              "SMS template '" + t.kind + "' has no Tencent template id (sms.templates_file)");
  }
  json body = {{"PhoneNumberSet", json::array({req.phone})},
               {"SmsSdkAppId", settings_.sdk_app_id},
               {"SignName", settings_.sign_name},
               {"TemplateId", t.tencent_id},
               {"TemplateParamSet", req.rendered.values},
               {"SessionContext", req.session}};
  if (!req.extend.empty()) body["ExtendCode"] = req.extend;
  auto res = co_await Call("SendSms", body.dump());
  if (!res) co_return detail::TransportFailure(Name(), res.error());
  if (auto failed = detail::HttpFailure(Name(), res->status)) co_return *failed;
  const json answer = json::parse(res->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("Response") || !answer["Response"].is_object()) {
    co_return detail::Outcome(Name(), AttemptOutcome::kUnknown,
                              "unreadable answer, HTTP " + std::to_string(res->status));
  }
  const json& response = answer["Response"];
  if (response.contains("Error")) {
    const std::string code = response["Error"].value("Code", "");
    co_return detail::Outcome(Name(), Classify(code), code + " " + response["Error"].value("Message", ""));
  }
  // One number per request, so its status is the whole answer; a 200 can still refuse it.
  const json& set = response.value("SendStatusSet", json::array());
  for (const auto& status : set) {
    if (status.value("PhoneNumber", "") != req.phone && set.size() > 1) continue;
    const std::string code = status.value("Code", "");
    if (code == "Ok")
      co_return detail::Outcome(Name(), AttemptOutcome::kSent, "", "tencent:" + status.value("SerialNo", ""));
    co_return detail::Outcome(Name(), Classify(code), code + " " + status.value("Message", ""));
  }
  co_return detail::Outcome(Name(), AttemptOutcome::kUnknown, "no status for the number in the answer");
}

net::awaitable<LookupResult> TencentProvider::Lookup(const std::string& phone, const std::string& session,
                                                     std::chrono::seconds attempt_age,
                                                     const std::string& /*text: SessionContext finds it*/) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  // Receipts of the attempt's day and the day before: a send from before midnight reports after.
  const json body = {{"SmsSdkAppId", settings_.sdk_app_id},
                     {"PhoneNumber", phone},
                     {"BeginTime", now - attempt_age.count() - 86'400},
                     {"EndTime", now},
                     {"Offset", 0},
                     {"Limit", 100}};
  auto res = co_await Call("PullSmsSendStatusByPhoneNumber", body.dump());
  LookupResult out;
  if (!res || res->status != 200) co_return out;
  const json answer = json::parse(res->body, nullptr, false);
  if (!answer.is_object()) co_return out;
  for (const auto& s : answer.value("Response", json::object()).value("PullSmsSendStatusSet", json::array())) {
    if (s.value("SessionContext", "") != session) continue;
    out.recovery = store::Recovery::kWasSent;
    out.provider_ref = "tencent:" + s.value("SerialNo", "");
    out.sent_status = s.value("ReportStatus", "") == "SUCCESS" ? "delivered" : "sent";
    co_return out;
  }
  co_return out;  // no receipt yet proves nothing: still unknown
}

}  // namespace duijie::channels::sms
