#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace duijie::dialogs {

/// Every user-facing text, by locale and key (config/messages/<locale>.json). zh-CN is the
/// default and the fallback; a missing key falls back to zh-CN, then to the key itself, so a
/// gap shows up in testing instead of crashing a conversation.
class Catalogue {
 public:
  static constexpr std::string_view kDefaultLocale = "zh-CN";

  /// The catalogue compiled into the binary from config/messages/.
  static const Catalogue& Embedded();
  /// From locale -> JSON text of {key: text}.
  static Result<Catalogue> FromJson(const std::map<std::string, std::string>& files);

  /// The text for `key` with {name} placeholders replaced from `params` (strings or numbers).
  [[nodiscard]] std::string Text(std::string_view locale, std::string_view key,
                                 const nlohmann::json& params = nlohmann::json::object()) const;
  [[nodiscard]] bool Has(std::string_view locale, std::string_view key) const;
  [[nodiscard]] std::vector<std::string> Keys(std::string_view locale) const;
  [[nodiscard]] std::vector<std::string> Locales() const;

 private:
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> texts_;
};

}  // namespace duijie::dialogs
