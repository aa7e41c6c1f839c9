#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace duijie::matcher {

/// Decodes the UTF-8 sequence at text[i] into cp; returns its length in bytes, or 0 when the bytes
/// there are not a complete, well-formed sequence (the caller decides how to skip them).
[[nodiscard]] std::size_t DecodeUtf8(std::string_view text, std::size_t i, char32_t& cp);

/// Appends the UTF-8 encoding of cp.
void AppendUtf8(std::string& out, char32_t cp);

/// The first `chars` characters (whole code points) of UTF-8 `text`, with "…" when cut: a title or
/// a message shortened for a list line.
[[nodiscard]] std::string Excerpt(std::string_view text, std::size_t chars);

/// A CJK unified ideograph (the basic block, extension A, compatibility ideographs, extensions B+).
[[nodiscard]] constexpr bool IsHan(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x3134F);
}

}  // namespace duijie::matcher
