#pragma once
#include <string>
#include <string_view>

namespace duijie {

/// Lower-case hex SHA-256 of `bytes` (file names of stored documents, API token hashes).
[[nodiscard]] std::string Sha256Hex(std::string_view bytes);

/// `n` bytes from the operating system's CSPRNG as lower-case hex (API tokens, codes).
[[nodiscard]] std::string RandomHex(std::size_t n);

}  // namespace duijie
