#include "matcher/analyzer.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace duijie::matcher {
namespace {

std::vector<std::string> Terms(const Analyzer& analyzer, std::string_view text, TermKind kind) {
  const Analysis analysis = analyzer.Analyze(text);
  std::vector<std::string> out;
  for (const TermSpan& span : analysis.terms) {
    if (span.kind == kind) out.emplace_back(analysis.Term(span));
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(Analyzer, ChineseBecomesCharactersAndBigrams) {
  const Analyzer analyzer;
  EXPECT_EQ(Terms(analyzer, "风机挂冰", TermKind::kHanUnigram), (Strings{"风", "机", "挂", "冰"}));
  EXPECT_EQ(Terms(analyzer, "风机挂冰", TermKind::kHanBigram), (Strings{"风机", "机挂", "挂冰"}));
}

TEST(Analyzer, BigramsDoNotCrossPunctuationOrOtherScripts) {
  const Analyzer analyzer;
  EXPECT_EQ(Terms(analyzer, "涂层，防冰", TermKind::kHanBigram), (Strings{"涂层", "防冰"}));
  EXPECT_EQ(Terms(analyzer, "电池ai芯片", TermKind::kHanBigram), (Strings{"电池", "芯片"}));
}

TEST(Analyzer, NumbersKeepTheirUnits) {
  const Analyzer analyzer;
  EXPECT_EQ(Terms(analyzer, "零下-20℃启动，280Ah电芯，3.5kW，精度5μm，含量15%", TermKind::kWord),
            (Strings{"-20℃", "280ah", "3.5kw", "5μm", "15%"}));
}

TEST(Analyzer, LatinWordsAreFoldedAndASignAfterAWordIsAHyphen) {
  const Analyzer analyzer;
  EXPECT_EQ(Terms(analyzer, "ＭＯＳＦＥＴ器件 AI-20 co2", TermKind::kWord), (Strings{"mosfet", "ai", "20", "co2"}));
}

TEST(Analyzer, OverlongTokensAreDropped) {
  const Analyzer analyzer;
  EXPECT_TRUE(Terms(analyzer, std::string(65, 'a'), TermKind::kWord).empty());
  EXPECT_EQ(Terms(analyzer, std::string(64, 'a'), TermKind::kWord).size(), 1U);
}

TEST(Analyzer, StopCharactersAreLeftOutAsUnigramsOnly) {
  const Analyzer analyzer(
      AnalyzerOptions{.han_unigrams = true, .han_bigrams = true, .stop_unigrams = U"的", .to_simplified = {}});
  EXPECT_EQ(Terms(analyzer, "我的", TermKind::kHanUnigram), (Strings{"我"}));
  EXPECT_EQ(Terms(analyzer, "我的", TermKind::kHanBigram), (Strings{"我的"}));
}

TEST(Analyzer, HanPositionsMakeAdjacentBigramsJoinable) {
  const Analyzer analyzer;
  const Analysis analysis = analyzer.Analyze("锂电池，电解液");
  std::vector<std::uint32_t> positions;
  for (const TermSpan& span : analysis.terms) {
    if (span.kind == TermKind::kHanBigram) positions.push_back(span.han_position);
  }
  // 锂电(0) 电池(1) | 电解(3) 解液(4): the comma breaks the chain.
  EXPECT_EQ(positions, (std::vector<std::uint32_t>{0, 1, 3, 4}));
}

TEST(Analyzer, InvalidUtf8IsSkippedNotFatal) {
  const Analyzer analyzer;
  const std::string text = "电\xff池\xe4";
  EXPECT_EQ(Terms(analyzer, text, TermKind::kHanUnigram), (Strings{"电", "池"}));
  EXPECT_TRUE(Terms(analyzer, text, TermKind::kHanBigram).empty());
}

TEST(OpenccConverter, TraditionalBecomesSimplifiedAndSimplifiedIsUntouched) {
  const std::string config = "/usr/share/opencc/t2s.json";
  if (!std::filesystem::exists(config)) GTEST_SKIP() << "OpenCC data not installed";
  const auto convert = MakeOpenccConverter(config);
  EXPECT_EQ(convert("鋰電池電解液"), "锂电池电解液");
  EXPECT_EQ(convert("锂电池电解液"), "锂电池电解液");
  EXPECT_EQ(convert(std::string_view("電\0池", 7)), std::string("电\0池", 7));
  const Analyzer analyzer(
      AnalyzerOptions{.han_unigrams = true, .han_bigrams = true, .stop_unigrams = {}, .to_simplified = convert});
  EXPECT_EQ(Terms(analyzer, "風機", TermKind::kHanBigram), (Strings{"风机"}));
}

TEST(OpenccConverter, AMissingConfigurationIsAClearError) {
  EXPECT_THROW((void)MakeOpenccConverter("/nonexistent/t2s.json"), std::runtime_error);
}

}  // namespace
}  // namespace duijie::matcher
