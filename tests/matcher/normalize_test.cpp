#include "matcher/normalize.hpp"

#include <gtest/gtest.h>

namespace duijie::matcher {
namespace {

TEST(FoldWidthAndCase, FullWidthAsciiBecomesAscii) {
  EXPECT_EQ(FoldWidthAndCase("１"), "1");
  EXPECT_EQ(FoldWidthAndCase("ＴＤ"), "td");
  EXPECT_EQ(FoldWidthAndCase("Ｙｅｓ！"), "yes!");
  EXPECT_EQ(FoldWidthAndCase("a\u3000b"), "a b");
}

TEST(FoldWidthAndCase, KeepsCjkAndOtherTextByteForByte) {
  EXPECT_EQ(FoldWidthAndCase("锂电池-20℃"), "锂电池-20℃");
  // The full-width comma (U+FF0C) is a full-width ASCII form; the ideographic full stop is not.
  EXPECT_EQ(FoldWidthAndCase("回复1，谢谢。"), "回复1,谢谢。");
  EXPECT_EQ(FoldWidthAndCase("😀"), "😀");
}

TEST(FoldWidthAndCase, InvalidUtf8IsKept) {
  const std::string bad =
      "a\xff"
      "b\xe4\xb8";
  EXPECT_EQ(FoldWidthAndCase(bad), bad);
}

TEST(NormalizeSpaces, CollapsesAndTrims) {
  EXPECT_EQ(NormalizeSpaces("  接受 \t\n 有意向　"), "接受 有意向");
  EXPECT_EQ(NormalizeSpaces(""), "");
}

}  // namespace
}  // namespace duijie::matcher
