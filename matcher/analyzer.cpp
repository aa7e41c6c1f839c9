#include "matcher/analyzer.hpp"

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "matcher/normalize.hpp"
#include "matcher/utf8.hpp"
#include <opencc/SimpleConverter.hpp>

namespace duijie::matcher {
namespace {

// Longer "words" are base64, hashes or pasted garbage, not vocabulary.
constexpr std::size_t kMaxWordBytes = 64;

bool IsAsciiAlnum(char32_t cp) { return (cp >= U'a' && cp <= U'z') || (cp >= U'0' && cp <= U'9'); }
bool IsDigit(char32_t cp) { return cp >= U'0' && cp <= U'9'; }

// Symbols that belong to the number before them: -20℃, 15%, 5μm, 10Ω.
bool IsUnitSymbol(char32_t cp) {
  return cp == U'℃' || cp == U'℉' || cp == U'%' || cp == U'‰' || cp == U'°' || cp == U'μ' || cp == U'µ' || cp == U'Ω' ||
         cp == U'Å';
}

struct Cursor {
  std::string_view text;
  std::size_t pos = 0;

  // The code point at pos and its length; invalid bytes read as U+FFFD of length 1.
  [[nodiscard]] std::pair<char32_t, std::size_t> Peek(std::size_t at) const {
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(text, at, cp);
    if (len == 0) return {U'\uFFFD', 1};
    return {cp, len};
  }
};

}  // namespace

Analyzer::Analyzer(AnalyzerOptions options) : options_(std::move(options)) {}

Analysis Analyzer::Analyze(std::string_view text) const {
  Analysis out;
  Analyze(text, out);
  return out;
}

void Analyzer::Analyze(std::string_view text, Analysis& out) const {
  out.terms.clear();
  if (options_.to_simplified) {
    out.text = FoldWidthAndCase(options_.to_simplified(text));
  } else {
    out.text = FoldWidthAndCase(text);
  }
  const Cursor cur{out.text};
  const std::size_t n = out.text.size();
  std::uint32_t han_index = 0;
  // The previous Han character of the current run, for bigrams.
  bool in_run = false;
  std::size_t prev_begin = 0;
  bool prev_was_word_char = false;

  std::size_t i = 0;
  while (i < n) {
    const auto [cp, len] = cur.Peek(i);
    if (IsHan(cp)) {
      if (options_.han_unigrams && options_.stop_unigrams.find(cp) == std::u32string::npos) {
        out.terms.push_back(
            {static_cast<std::uint32_t>(i), static_cast<std::uint16_t>(len), TermKind::kHanUnigram, han_index});
      }
      if (in_run && options_.han_bigrams) {
        out.terms.push_back({static_cast<std::uint32_t>(prev_begin), static_cast<std::uint16_t>(i + len - prev_begin),
                             TermKind::kHanBigram, han_index - 1});
      }
      in_run = true;
      prev_begin = i;
      ++han_index;
      prev_was_word_char = false;
      i += len;
      continue;
    }
    in_run = false;

    // A word: letters and digits, a decimal point inside a number, a sign before a number that
    // does not follow a word, and a unit symbol after a number.
    const bool signed_number = (cp == U'-' || cp == U'+') && !prev_was_word_char && i + 1 < n &&
                               IsDigit(static_cast<unsigned char>(out.text[i + 1]));
    if (!IsAsciiAlnum(cp) && !signed_number) {
      prev_was_word_char = false;
      i += len;
      continue;
    }
    const std::size_t begin = i;
    std::size_t j = i + 1;
    bool last_digit = IsDigit(cp);
    while (j < n) {
      const auto [c, l] = cur.Peek(j);
      if (IsAsciiAlnum(c)) {
        last_digit = IsDigit(c);
        j += l;
        continue;
      }
      if (c == U'.' && last_digit && j + 1 < n && IsDigit(static_cast<unsigned char>(out.text[j + 1]))) {
        j += l;
        continue;
      }
      if (last_digit && IsUnitSymbol(c)) {
        last_digit = false;
        j += l;
        continue;
      }
      break;
    }
    if (j - begin <= kMaxWordBytes) {
      out.terms.push_back(
          {static_cast<std::uint32_t>(begin), static_cast<std::uint16_t>(j - begin), TermKind::kWord, 0});
    }
    prev_was_word_char = true;
    i = j;
  }
}

std::function<std::string(std::string_view)> MakeOpenccConverter(const std::string& config_path) {
  std::shared_ptr<opencc::SimpleConverter> converter;
  try {
    converter = std::make_shared<opencc::SimpleConverter>(config_path);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load the OpenCC configuration " + config_path + ": " + e.what());
  }
  // Nearly every text is already simplified, and OpenCC's dictionary walk is the costliest step
  // of indexing. Find once which characters OpenCC changes on their own; a text without any of
  // them is returned as it is.
  constexpr char32_t kFirst = 0x3400;
  constexpr char32_t kLast = 0x9FFF;
  std::string all;
  for (char32_t cp = kFirst; cp <= kLast; ++cp) {
    AppendUtf8(all, cp);
    all.push_back('\n');
  }
  const std::string converted = converter->Convert(all.data(), all.size());
  auto changes = std::make_shared<std::vector<bool>>(kLast - kFirst + 1, false);
  std::size_t a = 0;
  std::size_t b = 0;
  for (char32_t cp = kFirst; cp <= kLast && a < all.size() && b < converted.size(); ++cp) {
    const std::size_t a_end = all.find('\n', a);
    const std::size_t b_end = converted.find('\n', b);
    if (a_end == std::string::npos || b_end == std::string::npos) break;
    (*changes)[cp - kFirst] = all.compare(a, a_end - a, converted, b, b_end - b) != 0;
    a = a_end + 1;
    b = b_end + 1;
  }
  return [converter, changes](std::string_view text) {
    bool traditional = false;
    for (std::size_t i = 0; i < text.size() && !traditional;) {
      char32_t cp = 0;
      const std::size_t len = DecodeUtf8(text, i, cp);
      traditional = len != 0 && cp >= kFirst && cp <= kLast && (*changes)[cp - kFirst];
      i += len == 0 ? 1 : len;
    }
    if (!traditional) return std::string(text);
    // OpenCC stops at a NUL byte, and user input may hold one: convert the pieces between them.
    std::string out;
    out.reserve(text.size());
    while (true) {
      const std::size_t nul = text.find('\0');
      const std::string_view piece = text.substr(0, nul);
      if (!piece.empty()) out += converter->Convert(piece.data(), piece.size());
      if (nul == std::string_view::npos) break;
      out.push_back('\0');
      text.remove_prefix(nul + 1);
    }
    return out;
  };
}

}  // namespace duijie::matcher
