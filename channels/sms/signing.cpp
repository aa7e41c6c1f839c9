#include "channels/sms/signing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "common/digest.hpp"

namespace duijie::channels::sms {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Civil {
  int year;
  unsigned month;
  unsigned day;
  long long seconds_of_day;
};

Civil ToCivil(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds t{seconds{unix_seconds}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
          (t - day).count()};
}

}  // namespace

std::string UtcDate(std::int64_t unix_seconds) {
  const Civil c = ToCivil(unix_seconds);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

std::string UtcIso8601(std::int64_t unix_seconds) {
  const Civil c = ToCivil(unix_seconds);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", c.year, c.month, c.day,
                c.seconds_of_day / 3600, c.seconds_of_day / 60 % 60, c.seconds_of_day % 60);
  return buf;
}

Tc3Signature SignTc3(const Tc3Input& in) {
  std::vector<std::pair<std::string, std::string>> headers = {{"content-type", Lower(Trim(in.content_type))},
                                                              {"host", Lower(Trim(in.host))}};
  for (const auto& [name, value] : in.extra_headers) headers.emplace_back(Lower(name), Lower(Trim(value)));
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  Tc3Signature out;
  out.canonical_request = "POST\n/\n\n" + canonical_headers + "\n" + signed_headers + "\n" + Sha256Hex(in.payload);
  const std::string date = UtcDate(in.timestamp);
  const std::string scope = date + "/" + std::string(in.service) + "/tc3_request";
  out.string_to_sign =
      "TC3-HMAC-SHA256\n" + std::to_string(in.timestamp) + "\n" + scope + "\n" + Sha256Hex(out.canonical_request);
  const std::string secret_date = HmacSha256("TC3" + std::string(in.secret_key), date);
  const std::string secret_service = HmacSha256(secret_date, in.service);
  const std::string secret_signing = HmacSha256(secret_service, "tc3_request");
  out.signature = HexEncode(HmacSha256(secret_signing, out.string_to_sign));
  out.authorization = "TC3-HMAC-SHA256 Credential=" + std::string(in.secret_id) + "/" + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  return out;
}

std::string AliyunPercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string AliyunCanonicalQuery(Params params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (name == "Signature") continue;
    if (!out.empty()) out += '&';
    out += AliyunPercentEncode(name) + "=" + AliyunPercentEncode(value);
  }
  return out;
}

std::string AliyunStringToSign(std::string_view method, const Params& params) {
  return std::string(method) + "&" + AliyunPercentEncode("/") + "&" + AliyunPercentEncode(AliyunCanonicalQuery(params));
}

std::string AliyunSignature(std::string_view method, const Params& params, std::string_view secret) {
  return Base64Encode(HmacSha1(std::string(secret) + "&", AliyunStringToSign(method, params)));
}

std::string TwilioSignature(std::string_view auth_token, std::string_view url, const Params& params) {
  // A repeated name contributes each distinct value once, values in sorted order (twilio-node).
  std::map<std::string, std::set<std::string>> sorted;
  for (const auto& [name, value] : params) sorted[name].insert(value);
  std::string data(url);
  for (const auto& [name, values] : sorted) {
    for (const auto& value : values) data += name + value;
  }
  return Base64Encode(HmacSha1(auth_token, data));
}

bool TwilioValidate(std::string_view auth_token, std::string_view signature, std::string_view url,
                    const Params& params) {
  std::vector<std::string> candidates = {std::string(url)};
  if (auto parsed = boost::urls::parse_uri(url)) {
    boost::urls::url u(*parsed);
    const std::string default_port = u.scheme() == "https" ? "443" : u.scheme() == "http" ? "80" : "";
    if (u.has_port()) {
      u.remove_port();
      candidates.push_back(std::string(u.buffer()));
    } else if (!default_port.empty()) {
      u.set_port(default_port);
      candidates.push_back(std::string(u.buffer()));
    }
  }
  bool ok = false;
  // Every candidate is checked so that the time taken does not tell which form matched.
  for (const auto& candidate : candidates)
    ok = ConstantTimeEquals(TwilioSignature(auth_token, candidate, params), signature) || ok;
  return ok;
}

}  // namespace duijie::channels::sms
