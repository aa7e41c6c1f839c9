#pragma once
// Shared by the fuzz targets: the input as text, and a helper to cut it into parts.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace duijie::fuzz {

inline std::string_view Text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

/// The input split at a separator byte (0x00 by default) into at most `max` parts, so one input
/// can feed a function of several arguments; missing parts are empty.
inline std::vector<std::string_view> Split(std::string_view text, std::size_t max, char separator = '\0') {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max) {
    const auto at = text.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  parts.push_back(text);
  parts.resize(max);
  return parts;
}

}  // namespace duijie::fuzz
