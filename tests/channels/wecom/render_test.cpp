#include "channels/wecom/render.hpp"

#include <gtest/gtest.h>

#include "dialogs/pushes.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

dialogs::OutboundMessage Msg(std::string kind, std::string text, json params = json::object(),
                             std::optional<std::string> title = std::nullopt) {
  return {std::move(kind), std::move(text), std::move(title), std::nullopt, std::move(params)};
}

bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

TEST(SplitUtf8, PiecesFitNeverCutACharacterAndLoseNothing) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "科技🚀a";  // 3 + 4 + 1 bytes, so cuts land everywhere
  for (const std::size_t limit : {4U, 5U, 7U, 100U, 2048U}) {
    const auto pieces = SplitUtf8(text, limit);
    std::string joined;
    for (const auto& p : pieces) {
      EXPECT_LE(p.size(), limit);
      EXPECT_FALSE(p.empty());
      EXPECT_TRUE(ValidUtf8(p));
      joined += p;
    }
    EXPECT_EQ(joined, text) << limit;
  }
}

TEST(SplitUtf8, PrefersALineBreakInTheSecondHalf) {
  const auto pieces = SplitUtf8("aaaaaaa\nbbbbbb\ncc", 10);
  EXPECT_EQ(pieces, (std::vector<std::string>{"aaaaaaa", "bbbbbb\ncc"}));
  EXPECT_EQ(SplitUtf8("a\nbbbbbbbbbbbb", 10), (std::vector<std::string>{"a\nbbbbbbbb", "bbbb"}));
  EXPECT_EQ(SplitUtf8("", 10), (std::vector<std::string>{""}));
}

TEST(RenderAppMessage, LongTextBecomesSeveralMessagesWithinTheLimit) {
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "需";  // 4500 bytes
  const auto calls = RenderAppMessage(Msg("text", text), "zhangsan", 1000002);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 3U);
  std::string joined;
  for (const auto& c : *calls) {
    EXPECT_EQ(c.path, "/cgi-bin/message/send");
    EXPECT_EQ(c.body["touser"], "zhangsan");
    EXPECT_EQ(c.body["agentid"], 1000002);
    const auto content = c.body["text"]["content"].get<std::string>();
    EXPECT_LE(content.size(), kAppTextBytes);
    joined += content;
  }
  EXPECT_EQ(joined, text);
}

TEST(RenderAppMessage, MarkdownTextcardAndNews) {
  auto md = RenderAppMessage(Msg("markdown", "**新需求** 已发布"), "u", 1);
  ASSERT_TRUE(md);
  EXPECT_EQ((*md)[0].body["msgtype"], "markdown");
  EXPECT_EQ((*md)[0].body["markdown"]["content"], "**新需求** 已发布");

  const std::string long_title(300, 'T');
  auto card = RenderAppMessage(
      Msg("card", std::string(600, 'd'), {{"url", "https://example.org/n/42"}, {"button", "查看详情按钮"}}, long_title),
      "u", 1);
  ASSERT_TRUE(card);
  const auto& tc = (*card)[0].body["textcard"];
  EXPECT_EQ((*card)[0].body["msgtype"], "textcard");
  EXPECT_EQ(tc["title"].get<std::string>().size(), kCardTitleBytes);
  EXPECT_EQ(tc["description"].get<std::string>().size(), kCardDescriptionBytes);
  EXPECT_EQ(tc["url"], "https://example.org/n/42");
  EXPECT_EQ(tc["btntxt"], "查看详情");  // 4 characters at most

  auto linkless = RenderAppMessage(Msg("card", "正文", json::object(), "标题"), "u", 1);
  ASSERT_TRUE(linkless);
  EXPECT_EQ((*linkless)[0].body["msgtype"], "text");
  EXPECT_EQ((*linkless)[0].body["text"]["content"], "标题\n正文");

  auto news = RenderAppMessage(
      Msg("news", "", {{"articles", {{{"title", "需求"}, {"url", "https://e.org/1"}, {"picurl", "https://e.org/p"}}}}}),
      "u", 1);
  ASSERT_TRUE(news);
  EXPECT_EQ((*news)[0].body["news"]["articles"][0]["picurl"], "https://e.org/p");
  EXPECT_FALSE(RenderAppMessage(Msg("news", "", {{"articles", json::array()}}), "u", 1));
  EXPECT_FALSE(RenderAppMessage(Msg("news", "", {{"articles", {{{"title", "no url"}}}}}), "u", 1));
}

TEST(RenderAppMessage, TemplateCardIsAButtonInteractionCardAndIsValidated) {
  const json params{{"task_id", "need42-review"},
                    {"source", "对接平台"},
                    {"fields", {{{"name", "编号"}, {"value", "REQ-42"}}}},
                    {"buttons",
                     {{{"text", "受理"}, {"key", "accept:42"}, {"style", 1}},
                      {{"text", "驳回"}, {"key", "reject:42"}, {"style", 2}}}}};
  auto calls = RenderAppMessage(Msg("template", "请确认是否受理", params, "新需求待审核"), "u", 7);
  ASSERT_TRUE(calls) << calls.error().message;
  const auto& card = (*calls)[0].body["template_card"];
  EXPECT_EQ((*calls)[0].body["msgtype"], "template_card");
  EXPECT_EQ(card["card_type"], "button_interaction");
  EXPECT_EQ(card["task_id"], "need42-review");
  EXPECT_EQ(card["main_title"]["title"], "新需求待审核");
  EXPECT_EQ(card["sub_title_text"], "请确认是否受理");
  EXPECT_EQ(card["source"]["desc"], "对接平台");
  EXPECT_EQ(card["horizontal_content_list"][0]["keyname"], "编号");
  EXPECT_EQ(card["button_list"][1]["key"], "reject:42");
  EXPECT_EQ(card["button_list"][1]["style"], 2);

  auto bad = params;
  bad["task_id"] = "has space";
  EXPECT_NE(RenderAppMessage(Msg("template", "", bad), "u", 7).error().message.find("task_id"), std::string::npos);
  bad = params;
  bad["buttons"][1]["key"] = "accept:42";
  EXPECT_NE(RenderAppMessage(Msg("template", "", bad), "u", 7).error().message.find("twice"), std::string::npos);
  bad = params;
  bad["buttons"] = json::array();
  for (int i = 0; i < 7; ++i) bad["buttons"].push_back({{"text", "b"}, {"key", std::to_string(i)}});
  EXPECT_FALSE(RenderAppMessage(Msg("template", "", bad), "u", 7));
  bad["buttons"] = {{{"text", "b"}, {"key", std::string(kButtonKeyBytes + 1, 'k')}}};
  EXPECT_FALSE(RenderAppMessage(Msg("template", "", bad), "u", 7));
}

TEST(RenderAppMessage, CardUpdateGoesToUpdateTemplateCardForTheClickingMember) {
  auto calls =
      RenderAppMessage(Msg("card_update", "", {{"response_code", "RC1"}, {"replace_name", "已受理"}}), "lisi", 7);
  ASSERT_TRUE(calls);
  EXPECT_EQ((*calls)[0].path, "/cgi-bin/message/update_template_card");
  EXPECT_EQ(
      (*calls)[0].body,
      json(
          {{"userids", {"lisi"}}, {"agentid", 7}, {"response_code", "RC1"}, {"button", {{"replace_name", "已受理"}}}}));
  EXPECT_FALSE(RenderAppMessage(Msg("card_update", "", {{"response_code", "RC1"}}), "lisi", 7));
  EXPECT_FALSE(RenderAppMessage(Msg("video", ""), "lisi", 7));
}

TEST(RenderRobotMessage, TextWithMentionsOnTheFirstPartAndLongMarkdown) {
  const std::string text(5000, 'x');
  auto bodies =
      RenderRobotMessage(Msg("text", text, {{"mentions", {"zhangsan", "@all"}}, {"mention_mobiles", {"13800001111"}}}));
  ASSERT_TRUE(bodies);
  ASSERT_EQ(bodies->size(), 3U);
  EXPECT_EQ((*bodies)[0]["text"]["mentioned_list"], json({"zhangsan", "@all"}));
  EXPECT_EQ((*bodies)[0]["text"]["mentioned_mobile_list"], json({"13800001111"}));
  EXPECT_FALSE((*bodies)[1]["text"].contains("mentioned_list"));

  auto md = RenderRobotMessage(Msg("markdown", std::string(5000, 'm')));
  ASSERT_TRUE(md);
  ASSERT_EQ(md->size(), 2U);
  EXPECT_EQ((*md)[0]["markdown"]["content"].get<std::string>().size(), kRobotMarkdownBytes);

  auto card = RenderRobotMessage(Msg("card", "截止日期 3 月 31 日", {{"url", "https://e.org/x"}}, "申报提醒"));
  ASSERT_TRUE(card);
  EXPECT_EQ((*card)[0]["msgtype"], "markdown");
  EXPECT_EQ((*card)[0]["markdown"]["content"], "**申报提醒**\n截止日期 3 月 31 日\n[https://e.org/x](https://e.org/x)");
  EXPECT_FALSE(RenderRobotMessage(Msg("card_update", "")));
}

}  // namespace
}  // namespace duijie::channels::wecom

// The match push as the dialogs make it renders as a WeCom button card (one payload serves
// every channel: see dialogs/pushes).
namespace duijie::channels::wecom {
namespace {

TEST(RenderAppMessage, AMatchPushIsAButtonCard) {
  test::TestDb db;
  db.SeedEnterprise("某风电公司");
  auto& c = db.Conn().Db();
  c.exec(
      "INSERT INTO needs (id, enterprise_id, programme_id, title, field, amount_wan, stage, created_at, updated_at) "
      "VALUES (7, 1, 1, '风机叶片冬季覆冰', 'energy', 20, 'published', 0, 0)");
  c.exec(
      "INSERT INTO people (id, role, status, preferred_channel, created_at, updated_at) VALUES "
      "(5, 'researcher', 'verified', 'wecom', 0, 0)");
  c.exec(
      "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES "
      "(5, 'wecom_userid', 'wangwu', 'verified', 0)");
  test::FakeRandom random;
  const std::vector<dialogs::PushCandidate> candidates = {{5, 1.0, {"覆冰"}, ""}};
  const auto msgs =
      dialogs::CreatePushes(db.Conn(), dialogs::Programme::Embedded().at("hubei-2020"), dialogs::Catalogue::Embedded(),
                            7, candidates, random, FromUnixMillis(1'795'305'600'000));
  ASSERT_EQ(msgs.size(), 1U);
  const auto calls =
      RenderAppMessage(nlohmann::json::parse(msgs[0].payload).get<dialogs::OutboundMessage>(), "wangwu", 1000002);
  ASSERT_TRUE(calls) << calls.error().message;
  ASSERT_EQ(calls->size(), 1U);
  const auto& card = (*calls)[0].body["template_card"];
  EXPECT_EQ(card["card_type"], "button_interaction");
  EXPECT_EQ(card["main_title"]["title"], "新技术需求：风机叶片冬季覆冰");
  EXPECT_EQ(card["button_list"].size(), 2U);
  EXPECT_EQ(card["horizontal_content_list"].size(), 2U);
}

}  // namespace
}  // namespace duijie::channels::wecom
