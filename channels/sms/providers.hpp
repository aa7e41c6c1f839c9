#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channels/http_client.hpp"
#include "channels/sender.hpp"
#include "channels/sms/signing.hpp"
#include "channels/sms/templates.hpp"
#include "common/clock.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::channels::sms {

/// Why a failed send means the number itself takes no SMS from us, so it is suppressed rather
/// than tried again: "blacklist" (Tencent's PhoneNumberInBlacklist: unsubscribed at the carrier or
/// the provider) or "invalid_number" (either provider refused the number as such); nullopt for
/// every other failure.
[[nodiscard]] std::optional<std::string> UnreachableReason(const store::AttemptRecord& record);

/// One SMS to one number, rendered from its template.
struct SmsRequest {
  std::string phone;    // E.164, e.g. +8613711112222
  Rendered rendered;    // template, values, text
  std::string session;  // our reference (the outbox key): Tencent SessionContext, Alibaba OutId
  std::string extend;   // extension code (digits) a reply comes back with; empty = none
};

/// One SMS provider's API. Implementations classify every answer for the outbox: kSent with the
/// provider's message id as "<provider>:<id>", kRetryable when nothing was sent and a later try
/// may succeed, kFailed for good (the error names the provider code), kUnknown when the request
/// may have been accepted (a timeout after it left): such a send is looked up, never repeated
/// blindly, because neither Chinese provider makes sending idempotent.
class Provider {
 public:
  virtual ~Provider() = default;
  [[nodiscard]] virtual std::string_view Name() const = 0;
  virtual net::awaitable<store::AttemptRecord> Send(const SmsRequest& req) = 0;
  /// Whether a send with `session` to `phone` reached the provider, asked without sending.
  /// `attempt_age` is how long ago the attempt in doubt ended; `text` is what it said (for a
  /// provider that keeps no reference of ours).
  virtual net::awaitable<LookupResult> Lookup(const std::string& phone, const std::string& session,
                                              std::chrono::seconds attempt_age, const std::string& text) = 0;
};

struct TencentSettings {
  std::string endpoint = "https://sms.tencentcloudapi.com";
  std::string region = "ap-guangzhou";
  std::string secret_id;
  std::string secret_key;
  std::string sdk_app_id;  // a string, never a JSON number
  std::string sign_name;   // the approved signature text, not its id
  std::chrono::milliseconds timeout{5'000};
};

/// Tencent Cloud SMS API 3.0 (SendSms 2021-01-11, TC3-HMAC-SHA256): every number's Code must be
/// "Ok" (a 200 can still fail a number). Lookup pulls the number's delivery receipts
/// (PullSmsSendStatusByPhoneNumber) and finds ours by SessionContext; a receipt may take
/// minutes to come, so not finding one is never proof that nothing was sent.
class TencentProvider final : public Provider {
 public:
  TencentProvider(HttpClient& http, const Clock& clock, TencentSettings settings);
  [[nodiscard]] std::string_view Name() const override { return "tencent"; }
  net::awaitable<store::AttemptRecord> Send(const SmsRequest& req) override;
  net::awaitable<LookupResult> Lookup(const std::string& phone, const std::string& session,
                                      std::chrono::seconds attempt_age, const std::string& text) override;

 private:
  net::awaitable<Result<ClientResponse>> Call(std::string_view action, const std::string& body);

  HttpClient& http_;
  const Clock& clock_;
  TencentSettings settings_;
  std::string host_;  // signed as `host`: the endpoint's host without port
  std::string url_;   // the endpoint with its trailing '/'
};

struct AliyunSettings {
  std::string endpoint = "https://dysmsapi.aliyuncs.com";
  std::string region = "cn-hangzhou";
  std::string access_key_id;
  std::string access_key_secret;
  std::string sign_name;
  std::chrono::milliseconds timeout{5'000};
};

/// Alibaba Cloud SMS (dysmsapi 2017-05-25, V1 RPC signature over a POSTed form, a fresh
/// SignatureNonce on every request). Lookup asks QuerySendDetails for the number's messages of
/// the day and finds ours by OutId; a submitted message is listed at once, so after
/// `kListedWithin` its absence means it was never accepted and it may be sent again.
class AliyunProvider final : public Provider {
 public:
  static constexpr std::chrono::seconds kListedWithin{300};

  AliyunProvider(HttpClient& http, const Clock& clock, AliyunSettings settings)
      : http_(http), clock_(clock), settings_(std::move(settings)) {}
  [[nodiscard]] std::string_view Name() const override { return "aliyun"; }
  net::awaitable<store::AttemptRecord> Send(const SmsRequest& req) override;
  net::awaitable<LookupResult> Lookup(const std::string& phone, const std::string& session,
                                      std::chrono::seconds attempt_age, const std::string& text) override;

 private:
  net::awaitable<Result<ClientResponse>> Call(Params params);

  HttpClient& http_;
  const Clock& clock_;
  AliyunSettings settings_;
};

struct TwilioSettings {
  std::string endpoint = "https://api.twilio.com";
  std::string account_sid;
  std::string auth_token;
  std::string from;  // a Twilio number, or
  std::string messaging_service_sid;
  std::string status_callback;  // public URL of /sms/twilio/status; empty = none
  std::chrono::milliseconds timeout{5'000};
};

/// Twilio Programmable Messaging for numbers outside mainland China: the rendered text is sent
/// as is (no templates abroad). Twilio keeps no reference of ours, so Lookup lists the number's
/// latest messages and looks for the same text; a message Twilio accepted is listed at once, so
/// one still missing `kListedWithin` after the attempt was never accepted.
class TwilioProvider final : public Provider {
 public:
  static constexpr std::chrono::seconds kListedWithin{300};
  TwilioProvider(HttpClient& http, TwilioSettings settings) : http_(http), settings_(std::move(settings)) {}
  [[nodiscard]] std::string_view Name() const override { return "twilio"; }
  net::awaitable<store::AttemptRecord> Send(const SmsRequest& req) override;
  net::awaitable<LookupResult> Lookup(const std::string& phone, const std::string& session,
                                      std::chrono::seconds attempt_age, const std::string& text) override;

 private:
  HttpClient& http_;
  TwilioSettings settings_;
};

/// Alibaba and Twilio want form bodies: name=value pairs, RFC 3986 encoded.
[[nodiscard]] std::string FormEncode(const Params& params);
/// Parses an application/x-www-form-urlencoded body ('+' is a space); nullopt if malformed.
[[nodiscard]] std::optional<Params> FormDecode(std::string_view body);

/// Our reference for outbox message `id` as providers carry it (Tencent SessionContext, Alibaba
/// OutId): "dj<id>"; and back, nullopt for anything else.
[[nodiscard]] std::string Reference(std::int64_t outbox_id);
[[nodiscard]] std::optional<std::int64_t> OutboxIdOf(std::string_view reference);

/// A mainland China mobile (+86 and 11 digits starting with 1).
[[nodiscard]] bool IsMainlandMobile(std::string_view e164);

}  // namespace duijie::channels::sms
