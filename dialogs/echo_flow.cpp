#include "dialogs/echo_flow.hpp"

#include <array>

#include "matcher/normalize.hpp"

namespace duijie::dialogs {

std::optional<std::string> EchoReply(const InboundEvent& event, const Catalogue& catalogue, std::string_view locale) {
  if (event.kind == "event") {
    if (event.event == "subscribe" || event.event == "enter_agent") return catalogue.Text(locale, "welcome");
    return std::nullopt;
  }
  if (event.kind == "text") {
    const std::string normalized = matcher::NormalizeSpaces(event.text);
    static constexpr std::array<std::string_view, 5> kHelp = {"帮助", "help", "?", "？", "菜单"};
    for (auto word : kHelp) {
      if (normalized == word) return catalogue.Text(locale, "help");
    }
    return catalogue.Text(locale, "echo.received", {{"text", event.text}});
  }
  if (event.kind == "file") return catalogue.Text(locale, "echo.file_received");
  return catalogue.Text(locale, "echo.unsupported");
}

}  // namespace duijie::dialogs
