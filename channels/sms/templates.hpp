#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace duijie::channels::sms {

/// One approved SMS template (config/sms/templates.json).
struct Template {
  std::string kind;
  std::string type = "notification";  // verification, notification, marketing
  bool urgent = false;                // sent in quiet hours too
  std::vector<std::string> params;    // Tencent's order; Alibaba's names
  std::string text;                   // as approved, {name} per variable
  std::string tencent_id;
  std::string aliyun_id;
};

/// A template filled in for one message.
struct Rendered {
  const Template* tmpl = nullptr;
  std::vector<std::string> values;  // in params order
  std::string text;                 // the content without the signature
  std::size_t length = 0;           // characters with 【signature】, as the carriers count
  std::size_t parts = 0;            // 1 up to 70 characters, else 67 a part
};

/// Characters as Chinese carriers count them: Unicode code points of `utf8`.
[[nodiscard]] std::size_t SmsLength(std::string_view utf8);
/// Billed parts for a length: ≤ 70 one, above that 67 each.
[[nodiscard]] std::size_t SmsParts(std::size_t length);
/// Whether a variable looks like a link (Tencent refuses URLs in variables).
[[nodiscard]] bool LooksLikeUrl(std::string_view value);

class Templates {
 public:
  /// Parses a templates file; every problem named (kind, field, what is expected).
  static Result<Templates> Parse(std::string_view json_text);
  /// The templates compiled in from config/sms/templates.json.
  static const Templates& Embedded();

  [[nodiscard]] const Template* Find(std::string_view kind) const;
  /// Every kind with its variables in order (what a staff template's SMS part may name).
  [[nodiscard]] std::map<std::string, std::vector<std::string>, std::less<>> Kinds() const;

  /// Fills `kind` with `params` (a JSON object, values as strings or numbers) and counts its
  /// length with `sign_name`. Fails with a clear message when a variable is missing, a variable
  /// holds a link, or the content passes 500 characters.
  [[nodiscard]] Result<Rendered> Render(std::string_view kind, const nlohmann::json& params,
                                        std::string_view sign_name) const;

 private:
  std::map<std::string, Template, std::less<>> by_kind_;
};

}  // namespace duijie::channels::sms
