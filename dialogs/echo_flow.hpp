#pragma once
#include <optional>
#include <string>

#include "dialogs/catalogue.hpp"
#include "dialogs/message.hpp"

namespace duijie::dialogs {

/// The stand-in conversation until the real flows land (issue 4): greets on subscribe or when
/// the app is opened, answers 帮助/help, and confirms every other text it received. Pure.
/// Returns nothing for events that deserve no answer.
[[nodiscard]] std::optional<std::string> EchoReply(const InboundEvent& event, const Catalogue& catalogue,
                                                   std::string_view locale = Catalogue::kDefaultLocale);

}  // namespace duijie::dialogs
