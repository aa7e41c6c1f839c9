#include "dialogs/templates.hpp"

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

using nlohmann::json;

const SmsKinds kSms = {{"reminder", {"text"}}, {"review_result", {"title", "result"}}};

json Base() {
  return {
      {"name", "contract_due"},
      {"variables", {"deadline"}},
      {"title", "合同签订提醒"},
      {"text", {{"zh-CN", "{name}，请于{deadline}前签订合同。"}, {"en", "{name}, sign the contract by {deadline}."}}}};
}

std::string Why(const json& body) {
  auto r = ParseTemplate(body, kSms);
  return r ? std::string() : r.error().message;
}

TEST(Templates, OneTextServesEveryChannelInThePersonsLanguage) {
  auto t = ParseTemplate(Base(), kSms);
  ASSERT_TRUE(t) << t.error().message;
  const auto zh = RenderTemplate(*t, "zh-CN", {{"name", "张三"}, {"deadline", "2月28日"}});
  EXPECT_EQ(zh.wecom_format, "text");
  EXPECT_EQ(zh.wecom_title, "合同签订提醒");
  EXPECT_EQ(zh.wecom_text, "张三，请于2月28日前签订合同。");
  EXPECT_EQ(zh.sms_template, "reminder");
  EXPECT_EQ(zh.sms_params, (json{{"text", "【合同签订提醒】张三，请于2月28日前签订合同。"}}));
  EXPECT_EQ(zh.email_subject, "合同签订提醒");
  EXPECT_EQ(zh.email_text, zh.text);
  EXPECT_TRUE(zh.email_html.empty());
  const auto en = RenderTemplate(*t, "en", {{"name", "Li"}, {"deadline", "28 Feb"}});
  EXPECT_EQ(en.text, "Li, sign the contract by 28 Feb.");
  EXPECT_EQ(en.title, "合同签订提醒") << "a plain text serves every language";
  // A language the template lacks falls back to zh-CN.
  EXPECT_EQ(RenderTemplate(*t, "fr", {{"name", "X"}, {"deadline", "D"}}).text, "X，请于D前签订合同。");
}

TEST(Templates, EachChannelMayHaveItsOwnPart) {
  json body = Base();
  body["wecom"] = {{"format", "card"}, {"url", "https://duijie.example.cn/contracts"}};
  body["sms"] = {{"template", "review_result"}, {"params", {{"title", "合同"}, {"result", "请于{deadline}前签订"}}}};
  body["email"] = {{"html", "<p>{name}：{deadline}</p>"}};
  auto t = ParseTemplate(body, kSms);
  ASSERT_TRUE(t) << t.error().message;
  const auto r = RenderTemplate(*t, "zh-CN", {{"name", "<张三>"}, {"deadline", "2月28日"}});
  EXPECT_EQ(r.wecom_format, "card");
  EXPECT_EQ(r.wecom_url, "https://duijie.example.cn/contracts");
  EXPECT_EQ(r.sms_template, "review_result");
  EXPECT_EQ(r.sms_params, (json{{"title", "合同"}, {"result", "请于2月28日前签订"}}));
  EXPECT_EQ(r.email_html, "<p>&lt;张三&gt;：2月28日</p>") << "values are escaped inside HTML";
  EXPECT_EQ(r.email_text, "<张三>，请于2月28日前签订合同。") << "but not in text";
}

TEST(Templates, EveryMistakeIsNamed) {
  const auto with = [](const char* key, json value) {
    json b = Base();
    b[key] = std::move(value);
    return b;
  };
  EXPECT_NE(Why(with("name", "Report Due")).find("name:"), std::string::npos);
  EXPECT_NE(Why(with("name", "broadcast.deadline")).find("name:"), std::string::npos) << "catalogue names are taken";
  EXPECT_NE(Why(with("colour", "red")).find("'colour' is not a field"), std::string::npos);
  EXPECT_NE(Why(with("variables", {"deadline", "deadline"})).find("listed twice"), std::string::npos);
  EXPECT_NE(Why(with("variables", {"Deadline"})).find("variables:"), std::string::npos);
  EXPECT_NE(Why(with("text", "")).find("text: 1 to 2000 bytes"), std::string::npos);
  EXPECT_NE(Why(with("text", {{"zh-CN", "好"}, {"english", "ok"}})).find("'english' is not a locale"),
            std::string::npos);
  EXPECT_NE(Why(with("title", "见 www.example.cn")).find("a link cannot go by SMS"), std::string::npos);
  // With an SMS part of its own, the other texts may carry a link.
  json linked = with("text", "详见 https://duijie.example.cn");
  linked["sms"] = {{"template", "reminder"}, {"params", {{"text", "请登录平台查看"}}}};
  EXPECT_EQ(Why(linked), "");
  EXPECT_NE(Why(with("wecom", {{"format", "text"}, {"url", "https://a.cn"}})).find("card format only"),
            std::string::npos);
  EXPECT_NE(Why(with("wecom", {{"format", "card"}, {"url", "http://a.cn"}})).find("https://"), std::string::npos);
  EXPECT_NE(Why(with("sms", {{"template", "review_result"}, {"params", {{"title", "x"}, {"result", "y"}, {"z", "w"}}}}))
                .find("'z' is not a variable of the SMS template"),
            std::string::npos);
  EXPECT_NE(Why(with("email", {{"html", "<script>alert(1)</script>"}})).find("<script"), std::string::npos);
  EXPECT_NE(Why(with("email", {{"html", "<a href=\"JavaScript:x\">x</a>"}})).find("javascript"), std::string::npos);
  EXPECT_NE(Why(with("email", {{"cc", "a@b.cn"}})).find("'email.cc' is not a field"), std::string::npos);
  // Found by fuzzing: fields of the wrong type are refused by name instead of throwing.
  EXPECT_NE(Why(with("name", {{"zh-e", "reminder"}})).find("name:"), std::string::npos);
  EXPECT_NE(Why(with("wecom", {{"format", 3}})).find("wecom.format"), std::string::npos);
  EXPECT_NE(Why(with("sms", {{"template", json::array()}})).find("sms.template"), std::string::npos);
  // Without a list of SMS kinds (no SMS configured) the kind is not checked.
  EXPECT_TRUE(ParseTemplate(with("sms", {{"template", "custom_kind"}, {"params", {{"x", "y"}}}}), {}));
}

TEST(Templates, PlaceholdersAndFilling) {
  EXPECT_EQ(Placeholders("{a}，{b}{a}"), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(FillPlaceholders("{n}有{count}项", {{"n", "张三"}, {"count", 3}}), "张三有3项");
  EXPECT_EQ(FillPlaceholders("{x}", {{"x", "a&b"}}, true), "a&amp;b");
  EXPECT_TRUE(HasLink("see HTTPS://x"));
  EXPECT_FALSE(HasLink("请登录平台"));
}

}  // namespace
}  // namespace duijie::dialogs
