#include <nlohmann/json.hpp>

#include "channels/sms/provider_util.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/signing.hpp"
#include "common/digest.hpp"

namespace duijie::channels::sms {
namespace {

using nlohmann::json;
using store::AttemptOutcome;

constexpr std::int64_t kBeijingOffsetSeconds = std::int64_t{8} * 3600;

// Alibaba takes mainland numbers bare; others with their country code and no '+'.
std::string AliyunNumber(std::string_view e164) {
  if (e164.starts_with("+86")) return std::string(e164.substr(3));
  if (e164.starts_with('+')) return std::string(e164.substr(1));
  return std::string(e164);
}

std::string Uuid() {
  const std::string h = RandomHex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

// Spec §2.5; the classification is ours.
AttemptOutcome Classify(std::string_view code) {
  if (code.starts_with("isp.") || code.starts_with("Throttling") || code == "SignatureNonceUsed" ||
      code == "isv.BUSINESS_LIMIT_CONTROL" || code == "isv.DAY_LIMIT_CONTROL" || code == "isv.MONTH_LIMIT_CONTROL") {
    return code == "isp.RAM_PERMISSION_DENY" ? AttemptOutcome::kFailed : AttemptOutcome::kRetryable;
  }
  return AttemptOutcome::kFailed;
}

std::string BeijingDate(std::int64_t unix_seconds) {
  std::string d = UtcDate(unix_seconds + kBeijingOffsetSeconds);
  d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
  return d;
}

}  // namespace

net::awaitable<Result<ClientResponse>> AliyunProvider::Call(Params params) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  params.insert(params.end(), {{"AccessKeyId", settings_.access_key_id},
                               {"Format", "JSON"},
                               {"RegionId", settings_.region},
                               {"SignatureMethod", "HMAC-SHA1"},
                               // Fresh on every request, retries included: a reused nonce is refused.
                               {"SignatureNonce", Uuid()},
                               {"SignatureVersion", "1.0"},
                               {"Timestamp", UtcIso8601(now)},
                               {"Version", "2017-05-25"}});
  params.emplace_back("Signature", AliyunSignature("POST", params, settings_.access_key_secret));
  ClientRequest req;
  req.method = "POST";
  req.url = settings_.endpoint;
  if (!req.url.ends_with('/')) req.url += '/';
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = FormEncode(params);
  req.timeout = settings_.timeout;
  co_return co_await http_.Send(std::move(req));
}

net::awaitable<store::AttemptRecord> AliyunProvider::Send(const SmsRequest& req) {
  const Template& t = *req.rendered.tmpl;
  if (t.aliyun_id.empty()) {
    co_return detail::Outcome(Name(), AttemptOutcome::kFailed,
                              "SMS template '" + t.kind + "' has no Alibaba template code (sms.templates_file)");
  }
  json named = json::object();
  for (std::size_t i = 0; i < t.params.size(); ++i) named[t.params[i]] = req.rendered.values[i];
  Params params = {{"Action", "SendSms"},
                   {"PhoneNumbers", AliyunNumber(req.phone)},
                   {"SignName", settings_.sign_name},
                   {"TemplateCode", t.aliyun_id},
                   {"OutId", req.session}};
  if (!t.params.empty()) params.emplace_back("TemplateParam", named.dump());
  if (!req.extend.empty()) params.emplace_back("SmsUpExtendCode", req.extend);
  auto res = co_await Call(std::move(params));
  if (!res) co_return detail::TransportFailure(Name(), res.error());
  const json answer = json::parse(res->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("Code")) {
    if (auto failed = detail::HttpFailure(Name(), res->status)) co_return *failed;
    co_return detail::Outcome(Name(), AttemptOutcome::kUnknown,
                              "unreadable answer, HTTP " + std::to_string(res->status));
  }
  const std::string code = answer.value("Code", "");
  if (code == "OK") co_return detail::Outcome(Name(), AttemptOutcome::kSent, "", "aliyun:" + answer.value("BizId", ""));
  co_return detail::Outcome(Name(), Classify(code), code + " " + answer.value("Message", ""));
}

net::awaitable<LookupResult> AliyunProvider::Lookup(const std::string& phone, const std::string& session,
                                                    std::chrono::seconds attempt_age,
                                                    const std::string& /*text: OutId finds it*/) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  std::vector<std::string> dates = {BeijingDate(now - attempt_age.count())};
  if (BeijingDate(now) != dates.front()) dates.push_back(BeijingDate(now));
  LookupResult out;
  for (const auto& date : dates) {
    // Named, not a braced temporary: GCC 12 miscompiles initializer lists in co_await calls.
    Params query = {{"Action", "QuerySendDetails"},
                    {"PhoneNumber", AliyunNumber(phone)},
                    {"SendDate", date},
                    {"PageSize", "50"},
                    {"CurrentPage", "1"}};
    auto res = co_await Call(std::move(query));
    if (!res || res->status != 200) co_return out;
    const json answer = json::parse(res->body, nullptr, false);
    if (!answer.is_object() || answer.value("Code", "") != "OK") co_return out;
    const json details = answer.value("SmsSendDetailDTOs", json::object()).value("SmsSendDetailDTO", json::array());
    for (const auto& d : details) {
      if (d.value("OutId", "") != session) continue;
      out.recovery = store::Recovery::kWasSent;
      // SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered.
      out.sent_status = d.value("SendStatus", 0) == 3 ? "delivered" : "sent";
      out.provider_ref = "aliyun:";
      co_return out;
    }
  }
  // Listed as soon as Alibaba accepts it: absent long after the attempt means never accepted.
  if (attempt_age >= kListedWithin) out.recovery = store::Recovery::kWasLost;
  co_return out;
}

}  // namespace duijie::channels::sms
