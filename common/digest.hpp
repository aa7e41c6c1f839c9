#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace duijie {

/// Lower-case hex SHA-256 of `bytes` (file names of stored documents, API token hashes).
[[nodiscard]] std::string Sha256Hex(std::string_view bytes);

/// Lower-case hex of raw bytes.
[[nodiscard]] std::string HexEncode(std::string_view bytes);

/// Raw HMAC digests (provider request signatures: Tencent TC3, Alibaba V1, Twilio, Mailgun).
[[nodiscard]] std::string HmacSha256(std::string_view key, std::string_view message);
[[nodiscard]] std::string HmacSha1(std::string_view key, std::string_view message);

/// Standard base64 with padding. Decode refuses anything that is not canonical base64 text
/// (wrong length, stray characters, white space); returns nullopt then.
[[nodiscard]] std::string Base64Encode(std::string_view bytes);
[[nodiscard]] std::optional<std::string> Base64Decode(std::string_view text);

/// Equal length and equal bytes, in time independent of where they differ (signatures).
[[nodiscard]] bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// `n` bytes from the operating system's CSPRNG as lower-case hex (API tokens, codes).
[[nodiscard]] std::string RandomHex(std::size_t n);

}  // namespace duijie
