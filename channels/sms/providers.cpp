#include "channels/sms/providers.hpp"

#include <algorithm>
#include <charconv>

#include "channels/sms/provider_util.hpp"

namespace duijie::channels::sms {

std::string FormEncode(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += AliyunPercentEncode(name) + "=" + AliyunPercentEncode(value);
  }
  return out;
}

std::optional<Params> FormDecode(std::string_view body) {
  const auto decode = [](std::string_view in) -> std::optional<std::string> {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        out += ' ';
      } else if (in[i] == '%') {
        if (i + 2 >= in.size()) return std::nullopt;  // a '%' needs two hex digits after it
        const auto hex = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        const int hi = hex(in[i + 1]);
        const int lo = hex(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        out += in[i];
      }
    }
    return out;
  };
  Params out;
  for (std::string_view rest = body; !rest.empty();) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = decode(pair.substr(0, eq));
      auto value = decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!name || !value) return std::nullopt;
      out.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::string Reference(std::int64_t outbox_id) { return "dj" + std::to_string(outbox_id); }

std::optional<std::int64_t> OutboxIdOf(std::string_view reference) {
  if (!reference.starts_with("dj")) return std::nullopt;
  std::int64_t id = 0;
  const auto* end = reference.data() + reference.size();
  const auto [ptr, ec] = std::from_chars(reference.data() + 2, end, id);
  if (ec != std::errc() || ptr != end || id <= 0) return std::nullopt;
  return id;
}

bool IsMainlandMobile(std::string_view e164) {
  if (e164.size() != 14 || !e164.starts_with("+861")) return false;
  return std::all_of(e164.begin() + 1, e164.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> UnreachableReason(const store::AttemptRecord& record) {
  if (record.outcome != store::AttemptOutcome::kFailed) return std::nullopt;
  // Errors start with the provider's code (tencent.cpp, aliyun.cpp).
  const std::string_view error = record.error;
  if (error.starts_with("FailedOperation.PhoneNumberInBlacklist")) return "blacklist";
  if (error.starts_with("InvalidParameterValue.IncorrectPhoneNumber") || error.starts_with("isv.MOBILE_NUMBER_ILLEGAL"))
    return "invalid_number";
  return std::nullopt;
}

namespace detail {

store::AttemptRecord Outcome(std::string_view provider, store::AttemptOutcome outcome, std::string error,
                             std::string ref) {
  return {outcome, std::string(provider), std::move(ref), std::move(error)};
}

store::AttemptRecord TransportFailure(std::string_view provider, const Error& e) {
  // No connection made or a request we could not even build: nothing reached the provider.
  const bool unsent = e.code == Errc::kUnavailable || e.code == Errc::kInvalidArgument;
  return Outcome(provider, unsent ? store::AttemptOutcome::kRetryable : store::AttemptOutcome::kUnknown, e.message);
}

std::optional<store::AttemptRecord> HttpFailure(std::string_view provider, int status) {
  if (status < 500) return std::nullopt;
  // A gateway timeout may have passed the request on; other 5xx answers come before any work.
  const auto outcome = status == 504 ? store::AttemptOutcome::kUnknown : store::AttemptOutcome::kRetryable;
  return Outcome(provider, outcome, "HTTP " + std::to_string(status));
}

}  // namespace detail
}  // namespace duijie::channels::sms
