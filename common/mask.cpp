#include "common/mask.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace duijie {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsEmailLocalChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' || c == '+' || c == '%';
}
bool IsDomainChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-'; }

// A mainland mobile number is 11 digits starting 13-19; international ones are '+' and 8-15 digits.
bool LooksLikeMobile(std::string_view digits) {
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9';
}

}  // namespace

std::string MaskPhone(std::string_view phone) {
  if (phone.size() < 7) return "****";
  std::string out(phone);
  // Keep the first three significant digits after any country code, and the last four.
  const std::size_t tail = 4;
  std::size_t head = 3;
  if (phone.starts_with("+86")) {
    head = 6;
  } else if (phone.starts_with('+')) {
    head = 4;
  }
  if (head + tail >= out.size()) head = out.size() > tail + 1 ? out.size() - tail - 1 : 0;
  for (std::size_t i = head; i + tail < out.size(); ++i) out[i] = '*';
  return out;
}

std::string MaskEmail(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return "***";
  return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

std::string RedactText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    // Email: scan back over the local part already copied, forward over the domain.
    if (c == '@') {
      std::size_t local_start = out.size();
      while (local_start > 0 && IsEmailLocalChar(out[local_start - 1])) --local_start;
      std::size_t j = i + 1;
      while (j < text.size() && IsDomainChar(text[j])) ++j;
      const std::string_view domain = text.substr(i + 1, j - i - 1);
      if (local_start < out.size() && domain.find('.') != std::string_view::npos && domain.front() != '.') {
        const std::string local = out.substr(local_start);
        out.resize(local_start);
        out += MaskEmail(local + "@" + std::string(domain));
        i = j;
        continue;
      }
    }
    // Digit runs: a standalone mobile number, or '+' followed by 8-15 digits.
    const bool plus = c == '+' && i + 1 < text.size() && IsDigit(text[i + 1]);
    if ((IsDigit(c) || plus) && (i == 0 || !IsDigit(text[i - 1]))) {
      std::size_t j = plus ? i + 1 : i;
      while (j < text.size() && IsDigit(text[j])) ++j;
      const std::string_view run = text.substr(i, j - i);
      const std::size_t ndigits = plus ? run.size() - 1 : run.size();
      if ((plus && ndigits >= 8 && ndigits <= 15) || (!plus && LooksLikeMobile(run))) {
        out += MaskPhone(run);
      } else {
        out.append(run);
      }
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

bool IsSecretFieldName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  static constexpr std::array<std::string_view, 7> kMarkers = {"secret",        "password", "token", "aes_key",
                                                               "authorization", "api_key",  "passwd"};
  return std::any_of(kMarkers.begin(), kMarkers.end(),
                     [&](std::string_view m) { return lower.find(m) != std::string::npos; });
}

std::string MaskAddress(std::string_view address) {
  if (address.find('@') != std::string_view::npos) return MaskEmail(address);
  if (!address.empty() && (address[0] == '+' || IsDigit(address[0]))) return MaskPhone(address);
  return RedactText(address);
}

}  // namespace duijie
