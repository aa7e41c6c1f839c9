#include "channels/wecom/message.hpp"

#include <gtest/gtest.h>

#include "channels/wecom/crypto.hpp"

namespace duijie::channels::wecom {
namespace {

TEST(WeComMessage, ParsesTextWithItsMsgId) {
  const auto m = ParsePlaintext(
      "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[ChenJiaShun]]></FromUserName>"
      "<CreateTime>1476422779</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>"
      "<MsgId>4561255354251345929</MsgId><AgentID>1000002</AgentID></xml>");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->from_user, "ChenJiaShun");
  EXPECT_EQ(m->content, "你好");
  EXPECT_EQ(m->create_time, 1476422779);
  EXPECT_EQ(DedupeKey(*m), "msg:4561255354251345929");  // 64-bit id kept exactly
  const auto e = ToInboundEvent(*m);
  EXPECT_EQ(e.kind, "text");
  EXPECT_EQ(e.channel, "wecom");
  EXPECT_EQ(e.text, "你好");
}

TEST(WeComMessage, ParsesTemplateCardEventsAndLowerCasesEventNames) {
  const auto m = ParsePlaintext(
      "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>"
      "<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[key111]]></EventKey>"
      "<TaskId><![CDATA[taskid111]]></TaskId><CardType><![CDATA[text_notice]]></CardType>"
      "<ResponseCode><![CDATA[ResponseCode]]></ResponseCode><AgentID>1</AgentID></xml>");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->event, "template_card_event");
  EXPECT_EQ(m->task_id, "taskid111");
  EXPECT_EQ(m->response_code, "ResponseCode");
  const auto update = CardUpdateAfterClick(*m, "已提交");
  ASSERT_TRUE(update);
  EXPECT_EQ(update->kind, "card_update");
  EXPECT_EQ(update->params["response_code"], "ResponseCode");
  EXPECT_EQ(update->params["replace_name"], "已提交");
  const auto click = ParsePlaintext(
      "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>CLICK</Event>"
      "<EventKey>menu</EventKey></xml>");
  EXPECT_EQ(click->event, "click");
  EXPECT_FALSE(CardUpdateAfterClick(*click, "已提交"));  // a menu click has no card to update
}

TEST(WeComMessage, SameSecondEventsGetDistinctKeysAndARepeatTheSameKey) {
  auto parse = [](const std::string& event, const std::string& key) {
    return *ParsePlaintext(
        "<xml><FromUserName>u</FromUserName><CreateTime>100</CreateTime><MsgType>event</MsgType>"
        "<Event>" +
        event + "</Event><EventKey>" + key + "</EventKey><AgentID>1</AgentID></xml>");
  };
  EXPECT_NE(DedupeKey(parse("click", "a")), DedupeKey(parse("click", "b")));
  EXPECT_NE(DedupeKey(parse("click", "a")), DedupeKey(parse("view", "a")));
  EXPECT_EQ(DedupeKey(parse("click", "a")), DedupeKey(parse("click", "a")));
}

TEST(WeComMessage, UnknownTypesParseAndMalformedOnesAreRefused) {
  const auto unknown = ParsePlaintext("<xml><FromUserName>u</FromUserName><MsgType>hologram</MsgType></xml>");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(ToInboundEvent(*unknown).kind, "unknown");
  for (const char* bad :
       {"", "<xml>", "<notxml/>", "<xml><MsgType>text</MsgType></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>x</CreateTime></xml>"}) {
    const auto r = ParsePlaintext(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, CryptoErrc::kParseXml);
  }
  const auto huge = ParsePlaintext("<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>" +
                                   std::string(kMaxFieldBytes + 1, 'x') + "</Content></xml>");
  EXPECT_FALSE(huge);
}

TEST(WeComMessage, EntitiesAreNotExpanded) {
  const auto m = ParsePlaintext(
      "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
      "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>");
  if (m) {
    EXPECT_LT(m->content.size(), 10U);
  }
}

TEST(WeComMessage, EnvelopeNeedsEncrypt) {
  EXPECT_EQ(*ParseEnvelope("<xml><ToUserName>c</ToUserName><Encrypt><![CDATA[abc=]]></Encrypt></xml>"), "abc=");
  EXPECT_FALSE(ParseEnvelope("<xml><ToUserName>c</ToUserName></xml>"));
  EXPECT_FALSE(ParseEnvelope("{\"encrypt\":\"abc\"}"));
}

TEST(WeComMessage, TextReplySwapsRolesEscapesCdataAndCutsAtTheByteLimit) {
  CallbackMessage m;
  m.from_user = "zhangsan";
  m.to_user = "ww1";
  const auto xml = TextReplyPlaintext(m, "a]]>b", 42);
  EXPECT_NE(xml.find("<ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[ww1]]></FromUserName>"),
            std::string::npos);
  EXPECT_NE(xml.find("<CreateTime>42</CreateTime>"), std::string::npos);
  EXPECT_EQ(xml.find("a]]>b"), std::string::npos) << xml;
  EXPECT_NE(xml.find("a]]]]><![CDATA[>b"), std::string::npos) << xml;
}

TEST(TruncateUtf8, NeverSplitsACharacter) {
  EXPECT_EQ(TruncateUtf8("需求", 4), "需");
  EXPECT_EQ(TruncateUtf8("需求", 6), "需求");
  EXPECT_EQ(TruncateUtf8("需求", 2), "");
  EXPECT_EQ(TruncateUtf8("ab😀", 5), "ab");
}

}  // namespace
}  // namespace duijie::channels::wecom
