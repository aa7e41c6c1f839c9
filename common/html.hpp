#pragma once
#include <string>
#include <string_view>

namespace duijie {

/// Text made safe inside HTML element content and double-quoted attributes (& < > ").
[[nodiscard]] std::string EscapeHtml(std::string_view text);

}  // namespace duijie
