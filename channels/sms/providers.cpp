#include "channels/sms/providers.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

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
  auto parsed = boost::urls::parse_query(body);
  if (!parsed) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  Params out;
  for (const auto& p : boost::urls::params_view(*parsed, opts)) out.emplace_back(p.key, p.value);
  return out;
}

bool IsMainlandMobile(std::string_view e164) {
  if (e164.size() != 14 || !e164.starts_with("+861")) return false;
  return std::all_of(e164.begin() + 1, e164.end(), [](char c) { return c >= '0' && c <= '9'; });
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
