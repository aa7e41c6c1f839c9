#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duijie::channels::sms {

/// Request parameters in order of appearance; a name may repeat (Twilio).
using Params = std::vector<std::pair<std::string, std::string>>;

/// What Tencent Cloud's TC3-HMAC-SHA256 signs (spec §1.6). `payload` must be the exact body
/// bytes sent and `content_type` the exact header value sent.
struct Tc3Input {
  std::string_view secret_id;
  std::string_view secret_key;
  std::string_view service;  // host prefix, e.g. "sms"
  std::string_view host;     // without port
  std::string_view content_type;
  std::string_view payload;
  std::int64_t timestamp = 0;  // unix seconds, also sent as X-TC-Timestamp
  /// Signed besides content-type and host, e.g. {"X-TC-Action", "SendSms"}; names and values
  /// are lower-cased in the canonical request as the current documentation does.
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

struct Tc3Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header value
};

[[nodiscard]] Tc3Signature SignTc3(const Tc3Input& in);

/// UTC calendar date "YYYY-MM-DD" of a unix time (the TC3 credential scope is UTC, never local).
[[nodiscard]] std::string UtcDate(std::int64_t unix_seconds);
/// UTC "YYYY-MM-DDTHH:MM:SSZ" (Alibaba's Timestamp parameter).
[[nodiscard]] std::string UtcIso8601(std::int64_t unix_seconds);

/// RFC 3986 strict percent-encoding as Alibaba's V1 signature wants it: unreserved characters
/// `A-Z a-z 0-9 - _ . ~` kept, every other byte %XY with upper-case hex (space is %20).
[[nodiscard]] std::string AliyunPercentEncode(std::string_view text);
/// Sorted `name=value` pairs, each percent-encoded, joined with '&'.
[[nodiscard]] std::string AliyunCanonicalQuery(Params params);
[[nodiscard]] std::string AliyunStringToSign(std::string_view method, const Params& params);
/// Base64(HMAC-SHA1(secret + "&", StringToSign)) over every parameter except Signature.
[[nodiscard]] std::string AliyunSignature(std::string_view method, const Params& params, std::string_view secret);

/// Base64(HMAC-SHA1(auth token, url + every name+value sorted by name)), spec §3.3.
[[nodiscard]] std::string TwilioSignature(std::string_view auth_token, std::string_view url, const Params& params);
/// Checks X-Twilio-Signature in constant time against `url` as configured, and against the same
/// URL with the default port added or the port removed (Twilio is inconsistent about it).
[[nodiscard]] bool TwilioValidate(std::string_view auth_token, std::string_view signature, std::string_view url,
                                  const Params& params);

}  // namespace duijie::channels::sms
