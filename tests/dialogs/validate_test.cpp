// Field parsers with real-world answers: what people type into a chat.
#include "dialogs/validate.hpp"

#include <gtest/gtest.h>

#include "dialogs/catalogue.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

const Date kToday{2026, 11, 22};

std::string Error(const Parsed& p) { return p.Ok() ? "ok:" + p.value->dump() : p.error; }

TEST(ParseCreditCode, RealCodesPassAndTyposAreNamed) {
  // GB 32100-2015's own example and codes printed on well-known companies' licences.
  for (const char* code :
       {"91350100M000100Y43", "914403001922038216", "9144030071526726XG", "91330100799655058B", "91110000710925462X"}) {
    const auto p = ParseCreditCode(code);
    ASSERT_TRUE(p.Ok()) << code << " " << p.error;
    EXPECT_EQ(*p.value, code);
  }
  EXPECT_EQ(*ParseCreditCode(" 9144 0300 7152 6726xg ").value, "9144030071526726XG");  // spaces, lower case
  EXPECT_EQ(*ParseCreditCode("９１３５０１００Ｍ０００１００Ｙ４３").value, "91350100M000100Y43");  // full width
  EXPECT_EQ(Error(ParseCreditCode("91350100M000100Y44")), "invalid.credit_code_check");
  EXPECT_EQ(Error(ParseCreditCode("91350100M000100Y4")), "invalid.credit_code_length");
  EXPECT_EQ(Error(ParseCreditCode("91350100M0001O0Y43")), "invalid.credit_code_char");  // letter O
  EXPECT_EQ(ParseCreditCode("91350100M0001O0Y43").params["char"], "O");
  EXPECT_EQ(Error(ParseCreditCode("")), "invalid.credit_code_length");
}

TEST(ParseMobile, BareAndInternationalFormsAreOneNumber) {
  for (const char* m : {"13812345678", "+8613812345678", "+86 138 1234 5678", "008613812345678", "8613812345678",
                        "138-1234-5678", "１３８１２３４５６７８"}) {
    EXPECT_EQ(Error(ParseMobile(m)), R"(ok:"+8613812345678")") << m;
  }
  for (const char* m : {"1381234567", "23812345678", "12812345678", "+1 415 555 0100", "138123456789", "电话"}) {
    EXPECT_EQ(Error(ParseMobile(m)), "invalid.mobile") << m;
  }
}

TEST(ParseEmail, AcceptsAddressesAndLowerCasesTheDomain) {
  EXPECT_EQ(Error(ParseEmail(" Zhang.San@Example.COM ")), R"(ok:"zhang.san@example.com")");
  EXPECT_EQ(Error(ParseEmail("li_si+duijie@mail.hust.edu.cn")), R"(ok:"li_si+duijie@mail.hust.edu.cn")");
  for (const char* e : {"zhangsan", "a@b", "a@@b.cn", "a b@c.cn", "@example.com", "张三@example.com"}) {
    EXPECT_EQ(Error(ParseEmail(e)), "invalid.email") << e;
  }
}

TEST(ParseAmountWan, ChineseAndArabicFormsBecome10kYuan) {
  const std::vector<std::pair<const char*, double>> cases = {
      {"20万", 20},     {"20万元", 20},       {"200000元", 20},     {"二十万", 20},  {"二十万元", 20},
      {"0.5百万", 50},  {"1.2亿", 12000},     {"15", 15},           {"150000", 15},  {"十二万五千", 12.5},
      {"12.5万", 12.5}, {"￥300,000", 30},    {"人民币30万元", 30}, {"两百万", 200}, {"50w", 50},
      {"３０万", 30},   {"一亿二千万", 12000}};
  for (const auto& [text, wan] : cases) {
    const auto p = ParseAmountWan(text, 10);
    ASSERT_TRUE(p.Ok()) << text << " " << p.error;
    EXPECT_DOUBLE_EQ(p.value->get<double>(), wan) << text;
  }
  const auto low = ParseAmountWan("5万", 10);
  EXPECT_EQ(low.error, "invalid.amount_below_minimum");
  EXPECT_EQ(low.params["minimum"], 10);
  EXPECT_EQ(Catalogue::Embedded().Text("zh-CN", low.error, low.params),
            "意向金额不能低于10万元（您填的是5万元）。请重新输入，例如：10万");
  for (const char* bad : {"很多", "20万5", "1万5千", "", "-20万", "0"}) {
    EXPECT_EQ(Error(ParseAmountWan(bad, 10)).rfind("invalid.amount", 0), 0U) << bad;
  }
}

TEST(ParseDate, AbsoluteRelativeAndMonthEnds) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"2026-03-31", nullptr},  // in the past: refused below
      {"2027-03-31", "2027-03-31"}, {"2027/3/31", "2027-03-31"}, {"2027年3月31日", "2027-03-31"},
      {"2027.3.1", "2027-03-01"},   {"明年3月底", "2027-03-31"}, {"明年三月底", "2027-03-31"},
      {"明年2月", "2027-02-28"},    {"后年2月底", "2028-02-29"}, {"12月31日", "2026-12-31"},
      {"3月31日", "2027-03-31"},    {"月底", "2026-11-30"},      {"下个月底", "2026-12-31"},
      {"今年12月", "2026-12-31"},   {"2027年6月", "2027-06-30"}, {"十二月二十五号", "2026-12-25"}};
  for (const auto& [text, iso] : cases) {
    const auto p = ParseDate(text, kToday);
    if (iso == nullptr) {
      EXPECT_EQ(p.error, "invalid.date_past") << text;
      continue;
    }
    ASSERT_TRUE(p.Ok()) << text << " " << p.error;
    EXPECT_EQ(*p.value, iso) << text;
  }
  EXPECT_EQ(*ParseDate("下个月底", {2026, 12, 5}).value, "2027-01-31");
  for (const char* bad : {"2027-02-30", "2027-13-01", "明天吧", "13月", ""}) {
    EXPECT_EQ(Error(ParseDate(bad, kToday)), "invalid.date") << bad;
  }
  EXPECT_EQ(Error(ParseDate("今年3月", kToday)), "invalid.date_past");
}

TEST(ParseSigningDate, ThePastAndTodayButNeverTheFuture) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"2026-11-20", "2026-11-20"}, {"11月20日", "2026-11-20"}, {"12月20日", "2025-12-20"},
      {"今天", "2026-11-22"},       {"昨天", "2026-11-21"},     {"前天", "2026-11-20"}};
  for (const auto& [text, iso] : cases) {
    const auto p = ParseSigningDate(text, kToday);
    ASSERT_TRUE(p.Ok()) << text << " " << p.error;
    EXPECT_EQ(*p.value, iso) << text;
  }
  EXPECT_EQ(*ParseSigningDate("昨天", {2026, 1, 1}).value, "2025-12-31");
  EXPECT_EQ(*ParseSigningDate("前天", {2024, 3, 1}).value, "2024-02-28");
  EXPECT_EQ(Error(ParseSigningDate("2026-12-01", kToday)), "invalid.date_future");
  EXPECT_EQ(Error(ParseSigningDate("明年3月", kToday)), "invalid.date_future");
  EXPECT_EQ(Error(ParseSigningDate("明天", kToday)), "invalid.date");
}

const std::vector<Choice> kCategories = {{"product", "产品创新与技术攻关类", {"产品创新"}},
                                         {"common_tech", "行业关键共性技术突破类", {"共性技术"}},
                                         {"upgrade", "技术改造与转型升级类", {"技术改造"}},
                                         {"platform", "共建研发平台类", {"研发平台"}},
                                         {"design", "高端创新管理与工业设计类", {"工业设计"}}};

TEST(ParseChoice, ByNumberNameAliasPartOrCloseSpelling) {
  EXPECT_EQ(Error(ParseChoice("2", kCategories)), R"(ok:"common_tech")");
  EXPECT_EQ(Error(ParseChoice("５", kCategories)), R"(ok:"design")");
  EXPECT_EQ(Error(ParseChoice("第三", kCategories)), "invalid.choice");  // not a bare number: no guess
  EXPECT_EQ(Error(ParseChoice("三", kCategories)), R"(ok:"upgrade")");
  EXPECT_EQ(Error(ParseChoice("共建研发平台类", kCategories)), R"(ok:"platform")");
  EXPECT_EQ(Error(ParseChoice("工业设计", kCategories)), R"(ok:"design")");
  EXPECT_EQ(Error(ParseChoice("技术攻关", kCategories)), R"(ok:"product")");
  EXPECT_EQ(Error(ParseChoice("转型升级", kCategories)), R"(ok:"upgrade")");
  EXPECT_EQ(Error(ParseChoice("行业共性关键技术", kCategories)), R"(ok:"common_tech")");  // words swapped
  const auto ambiguous = ParseChoice("技术", kCategories);
  EXPECT_EQ(ambiguous.error, "invalid.choice_ambiguous");
  EXPECT_EQ(ambiguous.params["candidates"].size(), 3U);
  EXPECT_EQ(Error(ParseChoice("9", kCategories)), "invalid.choice_number");
  EXPECT_EQ(Error(ParseChoice("天气怎么样", kCategories)), "invalid.choice");
}

TEST(ParseChoices, SeveralSeparatedAnyWayWithinBounds) {
  EXPECT_EQ(Error(ParseChoices("1、3", kCategories, 1, 3)), R"(ok:["product","upgrade"])");
  EXPECT_EQ(Error(ParseChoices("工业设计，研发平台 1", kCategories, 1, 3)), R"(ok:["design","platform","product"])");
  EXPECT_EQ(Error(ParseChoices("1,1", kCategories, 1, 3)), R"(ok:["product"])");
  EXPECT_EQ(Error(ParseChoices("1,2,3,4", kCategories, 1, 3)), "invalid.choices_count");
  const auto bad = ParseChoices("1, 天气", kCategories, 1, 3);
  EXPECT_EQ(bad.error, "invalid.choice");
  EXPECT_EQ(bad.params["part"], "天气");
}

TEST(ParseTextAndCount, CountCharactersNotBytes) {
  EXPECT_EQ(Error(ParseText("  锂电池  正极材料 ", 2, 10)), R"(ok:"锂电池 正极材料")");
  EXPECT_EQ(Error(ParseText("锂", 2, 10)), "invalid.text_short");
  // Found by the form_values fuzzer: 20 digits overflowed the conversion to a whole number.
  EXPECT_EQ(Error(ParseCount("13561356734567\u3000734567\u3000", 1, 10)), "invalid.count");
  EXPECT_EQ(Error(ParseCount("99999999999999999999", 1, 10)), "invalid.count");
  // Free text is kept as written (case, full-width punctuation); only white space is tidied.
  EXPECT_EQ(Error(ParseText("武汉ABC电池　280Ah，-20℃\n可用", 2, 30)), R"(ok:"武汉ABC电池 280Ah，-20℃ 可用")");
  EXPECT_EQ(Error(ParseText("一二三四五六七八九十一", 2, 10)), "invalid.text_long");
  EXPECT_EQ(Error(ParseCount("3", 1, 5)), "ok:3");
  EXPECT_EQ(Error(ParseCount("两", 1, 5)), "ok:2");
  EXPECT_EQ(Error(ParseCount("6", 1, 5)), "invalid.count");
}

TEST(ValidationMessages, EveryErrorKeyHasAnExampleInBothLanguages) {
  for (const char* key :
       {"invalid.credit_code_length", "invalid.credit_code_char", "invalid.credit_code_check", "invalid.mobile",
        "invalid.email", "invalid.amount", "invalid.amount_below_minimum", "invalid.date", "invalid.date_past",
        "invalid.choice", "invalid.choice_number", "invalid.choice_ambiguous", "invalid.choices_count",
        "invalid.text_short", "invalid.text_long", "invalid.count"}) {
    EXPECT_TRUE(Catalogue::Embedded().Has("zh-CN", key)) << key;
    EXPECT_TRUE(Catalogue::Embedded().Has("en", key)) << key;
  }
}

}  // namespace
}  // namespace duijie::dialogs
