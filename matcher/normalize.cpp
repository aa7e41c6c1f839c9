#include "matcher/normalize.hpp"

#include "matcher/utf8.hpp"

namespace duijie::matcher {

std::string FoldWidthAndCase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(text, i, cp);
    if (len == 0) {
      out.push_back(text[i]);
      ++i;
      continue;
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
      cp -= 0xFEE0;
    } else if (cp == 0x3000) {
      cp = U' ';
    }
    if (cp >= U'A' && cp <= U'Z') cp += 32;
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else {
      AppendUtf8(out, cp);
    }
    i += len;
  }
  return out;
}

std::string CollapseSpaces(std::string_view text) {
  constexpr std::string_view kIdeographicSpace = "\u3000";
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool wide = text.substr(i, kIdeographicSpace.size()) == kIdeographicSpace;
    if (wide || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      if (wide) i += kIdeographicSpace.size() - 1;
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string NormalizeSpaces(std::string_view text) { return CollapseSpaces(FoldWidthAndCase(text)); }

}  // namespace duijie::matcher
