#include "channels/sms/templates.hpp"

#include <gtest/gtest.h>

namespace duijie::channels::sms {
namespace {

TEST(SmsLength, CountsCharactersNotBytesAndBillsBy67) {
  EXPECT_EQ(SmsLength("abc"), 3U);
  EXPECT_EQ(SmsLength("【科技对接】您好"), 8U);
  EXPECT_EQ(SmsParts(0), 0U);
  EXPECT_EQ(SmsParts(1), 1U);
  EXPECT_EQ(SmsParts(70), 1U);
  EXPECT_EQ(SmsParts(71), 2U);
  EXPECT_EQ(SmsParts(134), 2U);
  EXPECT_EQ(SmsParts(135), 3U);
  EXPECT_EQ(SmsParts(160), 3U);  // 67 + 67 + 26
}

TEST(SmsTemplates, EmbeddedRenderWithTheSignatureCounted) {
  const auto& t = Templates::Embedded();
  const auto r = t.Render("verification_code", {{"code", "493817"}}, "科技对接");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->text, "您的验证码为493817，5分钟内有效，请勿告诉他人。");
  EXPECT_EQ(r->values, std::vector<std::string>{"493817"});
  EXPECT_EQ(r->length, SmsLength(r->text) + 6);  // 【科技对接】
  EXPECT_EQ(r->parts, 1U);
  EXPECT_TRUE(r->tmpl->urgent);
}

TEST(SmsTemplates, LongPushIsCountedInParts) {
  const auto r = Templates::Embedded().Render("match_push",
                                              {{"title", "风电叶片冬季覆冰导致停机的防除冰技术"},
                                               {"enterprise", "湖北某新能源科技有限公司"},
                                               {"amount", 30},
                                               {"why", "您的研究方向超疏水涂层与需求高度相关"},
                                               {"code", "A7K"}},
                                              "科技对接");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(r->length, 70U);
  EXPECT_EQ(r->parts, SmsParts(r->length));
  EXPECT_NE(r->text.find("（湖北某新能源科技有限公司，30万元）"), std::string::npos);
  EXPECT_EQ(r->values.size(), 5U);
}

TEST(SmsTemplates, ALinkIsASchemeAWwwOrAHostWithACommonDomain) {
  for (const char* link : {"https://a.b", "HTTP://x", "www.hust", "见duijie.com", "duijie.COM/x", "x.cn", "a-b.io,",
                           "mail.edu中文", "1.top"}) {
    EXPECT_TRUE(LooksLikeUrl(link)) << link;
  }
  for (const char* text :
       {"", "3.5kw", "v1.2", "锂电池.", ".com", "x.company", "a.cn_b", "http:/x", "电话 027-8765", "www", "e.g. com"}) {
    EXPECT_FALSE(LooksLikeUrl(text)) << text;
  }
}

TEST(SmsTemplates, RefusesMissingVariablesLinksAndOverlongContent) {
  const auto& t = Templates::Embedded();
  const auto missing = t.Render("verification_code", nlohmann::json::object(), "");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("{code}"), std::string::npos);
  for (const char* link : {"详见 https://example.com/x", "www.example.com", "example.cn/need/1", "点击duijie.com"}) {
    SCOPED_TRACE(link);
    const auto r = t.Render("reply", {{"text", link}}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("link"), std::string::npos);
  }
  EXPECT_TRUE(t.Render("reply", {{"text", "金额为20.5万元，期限3.5个月"}}, ""));
  std::string long_text;
  for (int i = 0; i < 501; ++i) long_text += "字";
  const auto too_long = t.Render("reply", {{"text", long_text}}, "");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, make_error_code(Errc::kTooLarge));
  EXPECT_FALSE(t.Render("no_such_kind", {}, ""));
}

TEST(SmsTemplates, ParseNamesEveryProblem) {
  EXPECT_FALSE(Templates::Parse("[]"));
  const auto bad_type = Templates::Parse(R"({"x": {"type": "promo", "text": "a"}})");
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.error().message.find("x.type"), std::string::npos);
  const auto stray = Templates::Parse(R"({"x": {"text": "hello", "params": ["name"]}})");
  ASSERT_FALSE(stray);
  EXPECT_NE(stray.error().message.find("{name}"), std::string::npos);
  const auto ok = Templates::Parse(R"({"_comment": "c", "x": {"text": "hi {name}", "params": ["name"],
                                       "tencent": "1110", "aliyun": "SMS_1"}})");
  ASSERT_TRUE(ok);
  ASSERT_NE(ok->Find("x"), nullptr);
  EXPECT_EQ(ok->Find("x")->tencent_id, "1110");
  EXPECT_EQ(ok->Find("_comment"), nullptr);
}

}  // namespace
}  // namespace duijie::channels::sms
