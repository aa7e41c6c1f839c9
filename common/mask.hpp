#pragma once
#include <string>
#include <string_view>

namespace duijie {

/// "+8613812345678" -> "+86138****5678"; "13812345678" -> "138****5678". Short inputs become "****".
[[nodiscard]] std::string MaskPhone(std::string_view phone);
/// "zhang.san@example.com" -> "z***@example.com".
[[nodiscard]] std::string MaskEmail(std::string_view email);
/// A channel address masked by its kind: an email's local part, a phone number's middle digits;
/// anything else (a WeCom userid) with any phone or email inside it masked.
[[nodiscard]] std::string MaskAddress(std::string_view address);
/// Masks every phone number and email address found in free text; the rest is left as it is.
[[nodiscard]] std::string RedactText(std::string_view text);
/// True for field names whose values are secrets (token, secret, password, key, authorization...).
[[nodiscard]] bool IsSecretFieldName(std::string_view name);

}  // namespace duijie
