#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace duijie::matcher {

enum class TermKind : std::uint8_t {
  kHanUnigram,  // one Chinese character: shared characters carry meaning (挂冰 / 覆冰 / 防冰)
  kHanBigram,   // two adjacent Chinese characters: the unit most Chinese words are made of
  kWord,        // a Latin word, a number, or a number with its unit ("-20℃", "280ah", "3.5kw")
};

/// One term of an analysed text: a slice of Analysis::text.
struct TermSpan {
  std::uint32_t begin = 0;
  std::uint16_t size = 0;
  TermKind kind = TermKind::kWord;
  /// Index of the Chinese character the term starts at within its run of Chinese characters,
  /// counted over the whole text; lets explanations join adjacent matched bigrams into phrases.
  std::uint32_t han_position = 0;
};

/// The analysed form of a text: the normalised text and its terms in order of appearance.
/// Reused between calls so indexing a million texts does not allocate per text.
struct Analysis {
  std::string text;
  std::vector<TermSpan> terms;

  [[nodiscard]] std::string_view Term(const TermSpan& span) const {
    return std::string_view(text).substr(span.begin, span.size);
  }
};

struct AnalyzerOptions {
  bool han_unigrams = true;
  bool han_bigrams = true;
  /// Function characters left out as unigrams (they still form bigrams). Empty by default:
  /// bench/match_quality measured the list as costing more than it gained (docs/BENCHMARKS.md).
  std::u32string stop_unigrams;
  /// Traditional → simplified conversion (OpenCC's t2s, see MakeOpenccConverter); none when empty.
  std::function<std::string(std::string_view)> to_simplified;
};

/// Chinese and mixed text into index terms: width and case folded, traditional characters made
/// simplified, Chinese as character unigrams and bigrams, Latin words and numbers with their units
/// kept whole. Why characters and not dictionary words: bench/match_quality measured jieba's
/// dictionary segmentation adding nothing to recall over unigrams + bigrams (docs/BENCHMARKS.md).
class Analyzer {
 public:
  explicit Analyzer(AnalyzerOptions options = {});

  void Analyze(std::string_view text, Analysis& out) const;
  [[nodiscard]] Analysis Analyze(std::string_view text) const;

 private:
  AnalyzerOptions options_;
};

/// OpenCC's traditional → simplified converter from the given configuration file (Debian:
/// /usr/share/opencc/t2s.json). Throws std::runtime_error when OpenCC cannot load it.
[[nodiscard]] std::function<std::string(std::string_view)> MakeOpenccConverter(const std::string& config_path);

}  // namespace duijie::matcher
