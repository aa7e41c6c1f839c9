#include "dialogs/reply_grammar.hpp"

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

struct Case {
  std::string_view reply;
  ReplyIntent intent;
  std::string_view code;  // "" = none
  std::string_view rest;
};

constexpr ReplyIntent A = ReplyIntent::kAccept;
constexpr ReplyIntent D = ReplyIntent::kDecline;
constexpr ReplyIntent U = ReplyIntent::kUnsubscribe;
constexpr ReplyIntent X = ReplyIntent::kText;

// Real-world replies as phones send them: full-width digits and letters, trailing punctuation,
// reply codes in every position, Chinese and English mixed.
const Case kCases[] = {
    {"1", A, "", ""},
    {"１", A, "", ""},
    {" 1 ", A, "", ""},
    {"1。", A, "", ""},
    {"1！", A, "", ""},
    {"1.", A, "", ""},
    {"Y", A, "", ""},
    {"y", A, "", ""},
    {"Ｙ", A, "", ""},
    {"yes", A, "", ""},
    {"YES!", A, "", ""},
    {"Ok", A, "", ""},
    {"是", A, "", ""},
    {"是的", A, "", ""},
    {"好的。", A, "", ""},
    {"可以", A, "", ""},
    {"接受", A, "", ""},
    {"同意！", A, "", ""},
    {"有意向", A, "", ""},
    {"感兴趣", A, "", ""},
    {"有兴趣，请联系我", A, "", "请联系我"},
    {"1 A7K", A, "A7K", ""},
    {"1A7K", A, "A7K", ""},
    {"１ Ａ７Ｋ", A, "A7K", ""},
    {"A7K 1", A, "A7K", ""},
    {"a7k1", A, "A7K", ""},
    {"接受A7K", A, "A7K", ""},
    {"1 我下周有空", A, "", "我下周有空"},
    {"1有兴趣", A, "", "有兴趣"},
    {"没问题", A, "", ""},
    {"2", D, "", ""},
    {"２", D, "", ""},
    {"2。", D, "", ""},
    {"2 A7K", D, "A7K", ""},
    {"2 没时间", D, "", "没时间"},
    {"2，不是我的领域", D, "", "不是我的领域"},
    {"不", D, "", ""},
    {"不。", D, "", ""},
    {"否", D, "", ""},
    {"拒绝", D, "", ""},
    {"暂不考虑", D, "", ""},
    {"暂不考虑，谢谢", D, "", "谢谢"},
    {"不考虑", D, "", ""},
    {"不感兴趣", D, "", ""},
    {"没时间", D, "", ""},
    {"不是我的领域", D, "", ""},
    {"不，没时间", D, "", "没时间"},
    {"no", D, "", ""},
    {"NO.", D, "", ""},
    {"TD", U, "", ""},
    {"td", U, "", ""},
    {"ＴＤ", U, "", ""},
    {"T", U, "", ""},
    {"R", U, "", ""},
    {"N", U, "", ""},
    {"n", U, "", ""},
    {"退订", U, "", ""},
    {"退订。", U, "", ""},
    {"STOP", U, "", ""},
    {"拒收", U, "", ""},
    {"取消", X, "", "取消"},
    {"不错", X, "", "不错"},
    {"好久不见", X, "", "好久不见"},
    {"是否需要出差？", X, "", "是否需要出差"},
    {"t恤", X, "", "t恤"},
    {"td 什么意思", X, "", "td 什么意思"},
    {"yesterday", X, "", "yesterday"},
    {"12", X, "", "12"},
    {"3", X, "", "3"},
    {"我想了解一下这个需求的预算", X, "", "我想了解一下这个需求的预算"},
    {"请问企业在哪里", X, "", "请问企业在哪里"},
    {"", X, "", ""},
    {"。。。", X, "", ""},
};

TEST(SmsReply, GrammarTable) {
  static_assert(std::size(kCases) >= 60);
  for (const auto& c : kCases) {
    SCOPED_TRACE(std::string(c.reply));
    const auto parsed = ParseReply(c.reply);
    EXPECT_EQ(parsed.intent, c.intent);
    EXPECT_EQ(parsed.code.value_or(""), c.code);
    EXPECT_EQ(parsed.rest, c.rest);
  }
}

TEST(SmsReply, Normalisation) {
  EXPECT_EQ(NormalizeReply("  ＴＤ！ "), "td");
  EXPECT_EQ(NormalizeReply("“好的”"), "好的");
  EXPECT_EQ(NormalizeReply("1\u3000A7K"), "1 a7k");
}

TEST(SmsReply, CodesAvoidLookAlikes) {
  EXPECT_EQ(MakeReplyCode(0, 0, 0), "A2A");
  EXPECT_EQ(MakeReplyCode(0.999999, 0.999999, 0.999999), "Z9Z");
  EXPECT_TRUE(IsReplyCode("A7K"));
  EXPECT_TRUE(IsReplyCode("a7k"));
  EXPECT_FALSE(IsReplyCode("A1K"));  // 1 looks like I and l
  EXPECT_FALSE(IsReplyCode("O7K"));
  EXPECT_FALSE(IsReplyCode("YES"));
  EXPECT_FALSE(IsReplyCode("A7"));
}

}  // namespace
}  // namespace duijie::dialogs
