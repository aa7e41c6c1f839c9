#pragma once
#include <string>
#include <string_view>

namespace duijie::matcher {

/// Width and case folding for text typed on Chinese keyboards: full-width ASCII forms
/// (U+FF01..U+FF5E) become ASCII, the ideographic space (U+3000) a space, ASCII letters lower
/// case. Everything else, including CJK, is kept byte for byte; invalid UTF-8 is kept as is.
/// Used by the matcher's analysis and by reply parsing ("１" and "Ｙ" are "1" and "y").
[[nodiscard]] std::string FoldWidthAndCase(std::string_view text);

/// Runs of white space (the ideographic space U+3000 too) collapsed to one space and the ends
/// trimmed; everything else kept as written (free text in forms).
[[nodiscard]] std::string CollapseSpaces(std::string_view text);

/// FoldWidthAndCase, then CollapseSpaces.
[[nodiscard]] std::string NormalizeSpaces(std::string_view text);

}  // namespace duijie::matcher
