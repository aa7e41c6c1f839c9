#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace duijie::dialogs {

/// What a field parser made of an answer: the canonical value, or what is wrong as a catalogue
/// key with its parameters (the message shows an example). Invalid input is normal flow: a value.
struct Parsed {
  std::optional<nlohmann::json> value;
  std::string error;  // catalogue key, e.g. "invalid.credit_code"
  nlohmann::json params = nlohmann::json::object();

  [[nodiscard]] bool Ok() const { return value.has_value(); }
  static Parsed Value(nlohmann::json v) { return {std::move(v), {}, nlohmann::json::object()}; }
  static Parsed Error(std::string key, nlohmann::json params = nlohmann::json::object()) {
    return {std::nullopt, std::move(key), std::move(params)};
  }
};

/// A calendar date (proleptic Gregorian), for date answers relative to "today".
struct Date {
  int year = 1970;
  int month = 1;
  int day = 1;
  friend bool operator==(const Date&, const Date&) = default;
  friend bool operator<(const Date& a, const Date& b) {
    return std::tie(a.year, a.month, a.day) < std::tie(b.year, b.month, b.day);
  }
  [[nodiscard]] std::string Iso() const;
};

/// 统一社会信用代码 (GB 32100-2015): 18 characters of 0-9 and A-Z without I, O, Z, S, V; the last
/// is the check character of the first 17. Lower case and spaces are accepted and normalised.
[[nodiscard]] Parsed ParseCreditCode(std::string_view text);
[[nodiscard]] bool CreditCodeChecks(std::string_view code);

/// A mainland mobile number, bare (13812345678) or with +86 / 0086 / 86, spaces and dashes
/// allowed; canonical "+8613812345678".
[[nodiscard]] Parsed ParseMobile(std::string_view text);

/// An email address (one @, a dotted domain, no spaces); canonical in lower case (providers in
/// China treat the local part case-insensitively, and one spelling keeps identities unique).
[[nodiscard]] Parsed ParseEmail(std::string_view text);

/// An amount of 万元 as people read it: "20", "20.5", "0.5" — never "20.000000".
[[nodiscard]] std::string FormatWan(double wan);

/// An amount in 万元 (10,000 yuan): "20万", "20万元", "200000元", "二十万", "0.5百万", "1.2亿",
/// "15" (a bare number below 10,000 is read as 万元, from 10,000 up as 元). Below `minimum_wan` is
/// refused naming the minimum. Canonical: the number of 万元.
[[nodiscard]] Parsed ParseAmountWan(std::string_view text, double minimum_wan);

/// A deadline: "2026-03-31", "2026/3/31", "2026年3月31日", "3月31日", "明年3月底", "今年6月",
/// "下个月底", "月底". A month without a day means its last day. A date without a year is the
/// next such date from `today`. A date before `today` is refused.
[[nodiscard]] Parsed ParseDate(std::string_view text, const Date& today);

/// A day something happened (a contract's signing): the grammar of ParseDate plus 今天, 昨天,
/// 前天; a date without a year is the last such date; a date after `today` is refused.
[[nodiscard]] Parsed ParseSigningDate(std::string_view text, const Date& today);

/// One option of a programme list (category, field, region, eligibility type).
struct Choice {
  std::string id;
  std::string name;
  std::vector<std::string> aliases;
};

/// A choice by its number in the list ("2"), its name or an alias (width/case folded), a unique
/// part of a name ("技术攻关"), or, failing those, the one option sharing clearly the most
/// characters with the answer. An ambiguous answer is refused listing the candidates.
/// Canonical: the option's id.
[[nodiscard]] Parsed ParseChoice(std::string_view text, const std::vector<Choice>& options);

/// The name of option `id` in `list`, or the id itself when the list has none (a programme
/// edited after the data was written).
[[nodiscard]] std::string ChoiceName(const std::vector<Choice>& list, const std::string& id);

/// Several choices separated by 、,，; or spaces, between `min` and `max` of them, no repeats.
[[nodiscard]] Parsed ParseChoices(std::string_view text, const std::vector<Choice>& options, int min, int max);

/// Free text between `min_chars` and `max_chars` characters (code points) after trimming.
[[nodiscard]] Parsed ParseText(std::string_view text, int min_chars, int max_chars);

/// A whole number in [min, max] ("3", "三").
[[nodiscard]] Parsed ParseCount(std::string_view text, int min, int max);

/// Number of code points in valid UTF-8 (bytes that do not start a character are not counted).
[[nodiscard]] std::size_t CodePoints(std::string_view text);

}  // namespace duijie::dialogs
