#include "dialogs/validate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

#include "matcher/normalize.hpp"

namespace duijie::dialogs {
namespace {

constexpr std::string_view kCreditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::array<int, 17> kCreditWeights = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

// Splits valid UTF-8 into code points (as strings); invalid bytes become one-byte pieces.
std::vector<std::string> SplitChars(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = 1;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string Compact(std::string_view text) {
  std::string s = matcher::FoldWidthAndCase(text);
  std::erase_if(s, [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
  return s;
}

bool StripSuffix(std::string& s, std::string_view suffix) {
  if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.erase(s.size() - suffix.size());
    return true;
  }
  return false;
}

bool StripPrefix(std::string& s, std::string_view prefix) {
  if (s.rfind(prefix, 0) == 0) {
    s.erase(0, prefix.size());
    return true;
  }
  return false;
}

// The value of one Chinese numeral character: digits 0-9 as 0..9, units as 10, 100, ...;
// -1 for anything else.
long long ChineseValue(std::string_view ch) {
  static const std::array<std::pair<std::string_view, long long>, 17> kTable = {{{"零", 0},
                                                                                 {"〇", 0},
                                                                                 {"一", 1},
                                                                                 {"二", 2},
                                                                                 {"两", 2},
                                                                                 {"三", 3},
                                                                                 {"四", 4},
                                                                                 {"五", 5},
                                                                                 {"六", 6},
                                                                                 {"七", 7},
                                                                                 {"八", 8},
                                                                                 {"九", 9},
                                                                                 {"十", 10},
                                                                                 {"百", 100},
                                                                                 {"千", 1000},
                                                                                 {"万", 10'000},
                                                                                 {"亿", 100'000'000}}};
  for (const auto& [name, value] : kTable) {
    if (ch == name) return value;
  }
  return -1;
}

// "十二万五千" -> 125000. Nothing if the text is not entirely a Chinese numeral.
std::optional<long long> ParseChineseInt(std::string_view text) {
  const auto chars = SplitChars(text);
  if (chars.empty()) return std::nullopt;
  long long total = 0;
  long long section = 0;
  long long number = 0;
  bool any = false;
  for (const auto& ch : chars) {
    const long long v = ChineseValue(ch);
    if (v < 0) return std::nullopt;
    any = true;
    if (v < 10) {
      number = v;
    } else if (v < 10'000) {
      if (number == 0 && v == 10) number = 1;  // 十二 = 12
      section += number * v;
      number = 0;
    } else if (v == 10'000) {
      section += number;
      total += section * 10'000;
      section = 0;
      number = 0;
    } else {
      section += number;
      total = (total + section) * 100'000'000;
      section = 0;
      number = 0;
    }
  }
  if (!any) return std::nullopt;
  return total + section + number;
}

// An Arabic number ("20", "0.5", "200000") that is the whole of `s`.
std::optional<double> ParseArabic(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  int dots = 0;
  for (const char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  if (dots > 1 || s.front() == '.' || s.back() == '.') return std::nullopt;
  return std::stod(std::string(s));
}

std::optional<long long> ParseWholeNumber(std::string_view s) {
  // Beyond 10^15 no count, amount or year makes sense, and a double that large may not fit a
  // long long at all (found by the form_values fuzzer: "13561356734567 734567").
  constexpr double kLargest = 1e15;
  if (auto arabic = ParseArabic(s); arabic && std::floor(*arabic) == *arabic) {
    if (*arabic > kLargest) return std::nullopt;
    return static_cast<long long>(*arabic);
  }
  return ParseChineseInt(s);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysIn(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

double Round4(double v) { return std::round(v * 10'000) / 10'000; }

// A copy of `s` with every `from` replaced by `to` (built anew: GCC 12 warns falsely about
// in-place std::string::replace).
std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t pos = 0;;) {
    const auto hit = s.find(from, pos);
    out.append(s.substr(pos, hit == std::string_view::npos ? std::string_view::npos : hit - pos));
    if (hit == std::string_view::npos) break;
    out.append(to);
    pos = hit + from.size();
  }
  return out;
}

}  // namespace

std::string Date::Iso() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

std::size_t CodePoints(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool CreditCodeChecks(std::string_view code) {
  if (code.size() != 18) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 18; ++i) {
    const auto pos = kCreditAlphabet.find(code[i]);
    if (pos == std::string_view::npos) return false;
    if (i < 17) sum += static_cast<int>(pos) * kCreditWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  return kCreditAlphabet[static_cast<std::size_t>(check)] == code[17];
}

Parsed ParseCreditCode(std::string_view text) {
  std::string code = Compact(text);
  std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return std::toupper(c); });
  if (code.size() != 18) return Parsed::Error("invalid.credit_code_length", {{"length", CodePoints(code)}});
  for (const char c : code) {
    if (kCreditAlphabet.find(c) == std::string_view::npos) {
      return Parsed::Error("invalid.credit_code_char", {{"char", std::string(1, c)}});
    }
  }
  if (!CreditCodeChecks(code)) return Parsed::Error("invalid.credit_code_check");
  return Parsed::Value(code);
}

Parsed ParseMobile(std::string_view text) {
  std::string s = Compact(text);
  std::erase_if(s, [](char c) { return c == '-' || c == '(' || c == ')'; });
  if (!StripPrefix(s, "+86") && !StripPrefix(s, "0086") && s.size() == 13) StripPrefix(s, "86");
  static const std::regex kMobile("^1[3-9][0-9]{9}$");
  if (!std::regex_match(s, kMobile)) return Parsed::Error("invalid.mobile");
  return Parsed::Value("+86" + s);
}

Parsed ParseEmail(std::string_view text) {
  std::string s = matcher::NormalizeSpaces(text);
  static const std::regex kEmail(R"(^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$)");
  if (s.size() > 254 || !std::regex_match(s, kEmail)) return Parsed::Error("invalid.email");
  const auto at = s.find('@');
  std::transform(s.begin() + static_cast<long>(at), s.end(), s.begin() + static_cast<long>(at),
                 [](unsigned char c) { return std::tolower(c); });
  return Parsed::Value(s);
}

std::string FormatWan(double wan) {
  std::ostringstream os;
  os << std::setprecision(10) << wan;
  return os.str();
}

Parsed ParseAmountWan(std::string_view text, double minimum_wan) {
  std::string s = Compact(text);
  std::erase(s, ',');
  StripPrefix(s, "人民币");
  StripPrefix(s, "¥");
  StripPrefix(s, "￥");
  const bool yuan = StripSuffix(s, "元") || StripSuffix(s, "块") || StripSuffix(s, "rmb");
  double wan = 0;
  if (auto chinese = ParseChineseInt(s)) {
    wan = static_cast<double>(*chinese) / 10'000;  // "二十万" is a number of yuan
  } else {
    static const std::array<std::pair<std::string_view, double>, 7> kUnits = {
        {{"亿", 10'000}, {"千万", 1'000}, {"百万", 100}, {"十万", 10}, {"万", 1}, {"w", 1}, {"千", 0.1}}};
    double unit = 0;
    for (const auto& [suffix, value] : kUnits) {
      if (StripSuffix(s, suffix)) {
        unit = value;
        break;
      }
    }
    const auto number = ParseArabic(s);
    if (!number) return Parsed::Error("invalid.amount", {{"minimum", minimum_wan}});
    if (unit == 0) unit = yuan || *number >= 10'000 ? 0.0001 : 1;  // bare "15" is 万元, "150000" yuan
    wan = *number * unit;
  }
  wan = Round4(wan);
  if (wan <= 0 || wan > 1e8) return Parsed::Error("invalid.amount", {{"minimum", minimum_wan}});
  if (wan < minimum_wan)
    return Parsed::Error("invalid.amount_below_minimum", {{"minimum", minimum_wan}, {"amount", wan}});
  return Parsed::Value(wan);
}

namespace {

enum class When { kAhead, kBehind };

// A calendar day from today back `days`.
Date DaysBefore(Date d, int days) {
  for (int i = 0; i < days; ++i) {
    if (--d.day == 0) {
      d.month = d.month == 1 ? 12 : d.month - 1;
      if (d.month == 12) --d.year;
      d.day = DaysIn(d.year, d.month);
    }
  }
  return d;
}

// The date grammar of ParseDate, read forwards (deadlines: a date without a year is the next
// such date) or backwards (a signing date: the last such date, never after today).
Parsed ReadDate(std::string_view text, const Date& today, When when) {
  std::string s = Compact(text);
  std::erase(s, ' ');
  if (when == When::kBehind) {
    if (s == "今天" || s == "今日") return Parsed::Value(today.Iso());
    if (s == "昨天" || s == "昨日") return Parsed::Value(DaysBefore(today, 1).Iso());
    if (s == "前天") return Parsed::Value(DaysBefore(today, 2).Iso());
  }
  std::smatch m;
  Date d{};
  bool year_given = false;
  bool day_given = false;
  // Multi-byte characters only in alternations: std::regex classes work on bytes.
  static const std::regex kFull(R"(^(\d{4})(?:-|/|\.|年)(\d{1,2})(?:-|/|\.|月)(\d{1,2})(?:日|号)?$)");
  static const std::regex kYearMonth(R"(^(\d{4})(?:-|/|\.|年)(\d{1,2})(?:月)?(底|末|份)?$)");
  static const std::regex kMonthDay(R"(^(今年|明年|后年)?(.{1,9}?)月(份|底|末|(.{1,9}?)(?:日|号))?$)");
  static const std::regex kMonthEnd(R"(^(本月|这个月|下个月|下月)?(底|末)$|^月(底|末)$)");
  const auto number = [](const std::string& part) -> int {
    const auto v = ParseWholeNumber(part);
    return v && *v > 0 && *v < 10'000 ? static_cast<int>(*v) : 0;
  };
  if (std::regex_match(s, m, kFull)) {
    d = {std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3])};
    year_given = day_given = true;
  } else if (std::regex_match(s, m, kYearMonth)) {
    d = {std::stoi(m[1]), std::stoi(m[2]), 1};
    year_given = true;
  } else if (std::regex_match(s, m, kMonthEnd)) {
    d = {today.year, today.month, 1};
    if (m[1] == "下个月" || m[1] == "下月") {
      d.month = today.month == 12 ? 1 : today.month + 1;
      d.year = today.month == 12 ? today.year + 1 : today.year;
    }
    year_given = true;
  } else if (std::regex_match(s, m, kMonthDay)) {
    d.month = number(m[2]);
    d.year = today.year;
    if (m[1].matched) {
      year_given = true;
      d.year += m[1] == "明年" ? 1 : m[1] == "后年" ? 2 : 0;
    }
    if (m[4].matched) {
      d.day = number(m[4]);
      day_given = true;
    }
  } else {
    return Parsed::Error("invalid.date", {{"example", today.Iso()}});
  }
  if (d.month < 1 || d.month > 12 || (day_given && (d.day < 1 || d.day > DaysIn(d.year, d.month)))) {
    return Parsed::Error("invalid.date", {{"example", today.Iso()}});
  }
  if (!day_given) d.day = DaysIn(d.year, d.month);
  if (when == When::kAhead) {
    if (!year_given && d < today) d.year += 1;  // "3月31日" in April means next year
  } else if (!year_given && today < d) {
    d.year -= 1;  // "12月20日" signed in January was last year's
  }
  if (d.day > DaysIn(d.year, d.month)) d.day = DaysIn(d.year, d.month);
  if (when == When::kAhead && d < today) {
    return Parsed::Error("invalid.date_past", {{"date", d.Iso()}, {"today", today.Iso()}});
  }
  if (when == When::kBehind && today < d) {
    return Parsed::Error("invalid.date_future", {{"date", d.Iso()}, {"today", today.Iso()}});
  }
  return Parsed::Value(d.Iso());
}

}  // namespace

Parsed ParseDate(std::string_view text, const Date& today) { return ReadDate(text, today, When::kAhead); }

Parsed ParseSigningDate(std::string_view text, const Date& today) { return ReadDate(text, today, When::kBehind); }

Parsed ParseChoice(std::string_view text, const std::vector<Choice>& options) {
  const std::string answer = matcher::NormalizeSpaces(text);
  if (answer.empty()) return Parsed::Error("invalid.choice", {{"count", options.size()}});
  if (const auto n = ParseWholeNumber(Compact(answer)); n) {
    if (*n >= 1 && static_cast<std::size_t>(*n) <= options.size()) return Parsed::Value(options[*n - 1].id);
    return Parsed::Error("invalid.choice_number", {{"count", options.size()}});
  }
  const auto fold = [](std::string_view s) { return Compact(s); };
  const std::string key = fold(answer);
  for (const auto& o : options) {
    if (key == fold(o.name) || key == fold(o.id)) return Parsed::Value(o.id);
    for (const auto& a : o.aliases) {
      if (key == fold(a)) return Parsed::Value(o.id);
    }
  }
  // A unique part of a name ("技术攻关" for "产品创新与技术攻关类"), at least two characters.
  std::vector<const Choice*> partial;
  if (CodePoints(key) >= 2) {
    for (const auto& o : options) {
      bool hit = fold(o.name).find(key) != std::string::npos;
      for (const auto& a : o.aliases) hit = hit || fold(a).find(key) != std::string::npos;
      if (hit) partial.push_back(&o);
    }
  }
  if (partial.size() == 1) return Parsed::Value(partial.front()->id);
  if (partial.size() > 1) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto* o : partial) names.push_back(o->name);
    return Parsed::Error("invalid.choice_ambiguous", {{"candidates", names}});
  }
  // Fuzzy: the share of characters in common, if one option clearly leads.
  const auto chars = SplitChars(key);
  const std::set<std::string> mine(chars.begin(), chars.end());
  double best = 0;
  double second = 0;
  const Choice* winner = nullptr;
  for (const auto& o : options) {
    const auto theirs_v = SplitChars(fold(o.name));
    const std::set<std::string> theirs(theirs_v.begin(), theirs_v.end());
    std::size_t common = 0;
    for (const auto& c : mine) common += theirs.count(c);
    const double score = static_cast<double>(common) / static_cast<double>(mine.size() + theirs.size() - common);
    if (score > best) {
      second = best;
      best = score;
      winner = &o;
    } else if (score > second) {
      second = score;
    }
  }
  if (winner != nullptr && best >= 0.4 && best - second >= 0.15) return Parsed::Value(winner->id);
  return Parsed::Error("invalid.choice", {{"count", options.size()}});
}

Parsed ParseChoices(std::string_view text, const std::vector<Choice>& options, int min, int max) {
  std::string s = matcher::FoldWidthAndCase(text);
  for (const std::string_view sep : {"、", "，", "；", "/", ";"}) s = ReplaceAll(s, sep, ",");
  std::replace(s.begin(), s.end(), ' ', ',');
  nlohmann::json ids = nlohmann::json::array();
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto end = s.find(',', start);
    const std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) {
      auto one = ParseChoice(part, options);
      if (!one.Ok()) {
        one.params["part"] = part;
        return one;
      }
      if (std::find(ids.begin(), ids.end(), *one.value) == ids.end()) ids.push_back(*one.value);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (static_cast<int>(ids.size()) < min || static_cast<int>(ids.size()) > max) {
    return Parsed::Error("invalid.choices_count", {{"min", min}, {"max", max}});
  }
  return Parsed::Value(ids);
}

Parsed ParseText(std::string_view text, int min_chars, int max_chars) {
  // Free text keeps its case and full-width punctuation ("280Ah", "，"): only spaces are tidied.
  const std::string s = matcher::CollapseSpaces(text);
  const auto n = static_cast<int>(CodePoints(s));
  if (n < min_chars) return Parsed::Error("invalid.text_short", {{"min", min_chars}});
  if (n > max_chars) return Parsed::Error("invalid.text_long", {{"max", max_chars}, {"length", n}});
  return Parsed::Value(s);
}

Parsed ParseCount(std::string_view text, int min, int max) {
  const auto n = ParseWholeNumber(Compact(text));
  if (!n || *n < min || *n > max) return Parsed::Error("invalid.count", {{"min", min}, {"max", max}});
  return Parsed::Value(*n);
}

std::string ChoiceName(const std::vector<Choice>& list, const std::string& id) {
  for (const auto& c : list) {
    if (c.id == id) return c.name;
  }
  return id;
}

}  // namespace duijie::dialogs
