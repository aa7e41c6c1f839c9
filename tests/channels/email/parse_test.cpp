#include "channels/email/parse.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "channels/email/reply_text.hpp"

namespace duijie::channels::email {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(DUIJIE_TEST_DATA_DIR) + "/data/email/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What the dialog sees: the text part, else the HTML rendered, without quotes and signature.
std::string ReplyOf(const ParsedMail& m) { return ExtractReply(m.text.empty() ? HtmlToText(m.html, true) : m.text); }

TEST(ParseMail, ClientFixturesGiveExactlyWhatThePersonWrote) {
  const auto expected = nlohmann::json::parse(Fixture("expected.json"));
  ASSERT_GE(expected.size(), 8U);
  for (const auto& [name, reply] : expected.items()) {
    SCOPED_TRACE(name);
    auto m = ParseMail(Fixture(name));
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(ReplyOf(*m), reply.get<std::string>());
  }
}

TEST(ParseMail, QqMailHeadersInGb18030) {
  auto m = ParseMail(Fixture("qq.eml"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from.name, "张三");
  EXPECT_EQ(m->from.address, "zhangsan@qq.com");
  EXPECT_EQ(m->subject, "回复：有一项企业技术需求与您的专长相符");
  EXPECT_EQ(m->message_id, "tencent_ABCDEF0123@qq.com");
  EXPECT_EQ(m->in_reply_to, "duijie.o42.0123456789abcdef@notify.example.cn");
  EXPECT_EQ(m->recipients, std::vector<std::string>{"reply+o42-abcdef@inbound.example.cn"});
  EXPECT_FALSE(m->automatic);
}

TEST(ParseMail, Gb2312LabelReadsGbkCharacters) {
  auto m = ParseMail(Fixture("foxmail.eml"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from.name, "王堃");  // 堃 is GBK, not GB2312
  EXPECT_TRUE(m->text.empty());
  EXPECT_NE(m->html.find("王堃"), std::string::npos);
}

TEST(ParseMail, OutlookQEncodedSubjectAcrossTwoWords) {
  auto m = ParseMail(Fixture("outlook.eml"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->subject, "回复: 有一项企业技术需求");
  EXPECT_EQ(m->from.name, "王五");
}

TEST(ParseMail, AttachmentWithEncodedName) {
  auto m = ParseMail(Fixture("gmail_zh.eml"));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->attachments.size(), 1U);
  EXPECT_EQ(m->attachments[0].filename, "方案.pdf");
  EXPECT_EQ(m->attachments[0].content_type, "application/pdf");
  EXPECT_EQ(m->attachments[0].data, "%PDF-1.4 proposal");
}

TEST(ParseMail, AutoRepliesAndBounces) {
  auto away = ParseMail(Fixture("autoreply.eml"));
  ASSERT_TRUE(away);
  EXPECT_TRUE(away->automatic);
  EXPECT_FALSE(away->bounce);
  auto bounce = ParseMail(Fixture("bounce.eml"));
  ASSERT_TRUE(bounce);
  EXPECT_TRUE(bounce->automatic);
  ASSERT_TRUE(bounce->bounce);
  EXPECT_EQ(bounce->bounce->recipient, "gone@example.edu.cn");
  EXPECT_EQ(bounce->bounce->status, "5.1.1");
  EXPECT_TRUE(bounce->bounce->permanent);
  EXPECT_EQ(bounce->bounce->original_message_id, "duijie.o42.0123456789abcdef@notify.example.cn");
  // A 4.x.x delay notice is not permanent.
  std::string delayed = Fixture("bounce.eml");
  delayed.replace(delayed.find("Status: 5.1.1"), 13, "Status: 4.4.1");
  delayed.replace(delayed.find("Action: failed"), 14, "Action: delayed");
  EXPECT_FALSE(ParseMail(delayed)->bounce->permanent);
  auto plain = ParseMail("From: a@b.cn\r\nSubject: hi\r\nPrecedence: bulk\r\n\r\nnews\r\n");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->automatic);
}

TEST(ParseMail, BadInputIsRefusedClearly) {
  ParseLimits small;
  small.max_bytes = 1000;
  EXPECT_EQ(ParseMail(std::string(1001, 'a'), small).error().code, Errc::kTooLarge);
  // Broken base64.
  auto broken =
      ParseMail("From: a@b.cn\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n5oKo!!!5aW9\r\n");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("base64"), std::string::npos);
  // An unknown charset.
  auto charset = ParseMail("From: a@b.cn\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nqapla\r\n");
  ASSERT_FALSE(charset);
  EXPECT_NE(charset.error().message.find("x-klingon"), std::string::npos);
  // A multipart without a boundary, and one whose boundary never occurs.
  EXPECT_FALSE(ParseMail("Content-Type: multipart/mixed\r\n\r\nx\r\n"));
  EXPECT_FALSE(ParseMail("Content-Type: multipart/mixed; boundary=zz\r\n\r\nx\r\n"));
  // Headers without an end.
  EXPECT_FALSE(ParseMail("From: a@b.cn\r\nthis is not a header\r\n"));
}

TEST(ParseMail, AttachmentsAreCountedAndSizedPerFile) {
  const auto mail_with = [](int files, std::size_t bytes) {
    std::string raw = "From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
    raw += "--b\r\nContent-Type: text/plain\r\n\r\n合同见附件\r\n";
    for (int i = 0; i < files; ++i) {
      raw += "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"f" +
             std::to_string(i) + ".pdf\"\r\n\r\n" + std::string(bytes, 'x') + "\r\n";
    }
    return raw + "--b--\r\n";
  };
  ParseLimits limits;
  limits.max_attachments = 3;
  limits.max_attachment_bytes = 100;
  const auto fits = ParseMail(mail_with(3, 100), limits);
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->attachments.size(), 3U);
  const auto many = ParseMail(mail_with(4, 10), limits);
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, Errc::kTooLarge);
  EXPECT_NE(many.error().message.find("at most 3"), std::string::npos);
  const auto big = ParseMail(mail_with(1, 101), limits);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::kTooLarge);
  EXPECT_NE(big.error().message.find("f0.pdf"), std::string::npos);
}

TEST(ParseMail, MimeBombsHitTheLimits) {
  // Deep nesting.
  std::string deep;
  for (int i = 0; i < 50; ++i) {
    deep +=
        "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
  }
  deep += "Content-Type: text/plain\r\n\r\nx\r\n";
  auto nested = ParseMail(deep);
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().code, Errc::kTooLarge);
  // Thousands of parts.
  std::string many = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 5000; ++i) many += "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n";
  many += "--b--\r\n";
  auto wide = ParseMail(many);
  ASSERT_FALSE(wide);
  EXPECT_EQ(wide.error().code, Errc::kTooLarge);
  // Too many header fields.
  std::string headers;
  for (int i = 0; i < 1000; ++i) headers += "X-H: " + std::to_string(i) + "\r\n";
  EXPECT_EQ(ParseMail(headers + "\r\nbody").error().code, Errc::kTooLarge);
}

TEST(DecodeHeaderText, EncodedWordsAndTheSpaceBetweenThem) {
  EXPECT_EQ(*DecodeHeaderText("=?UTF-8?B?5byg5LiJ?= =?UTF-8?B?5p2O5Zub?="), "张三李四");
  EXPECT_EQ(*DecodeHeaderText("Re: =?UTF-8?Q?=E5=BC=A0_=E4=B8=89?= ok"), "Re: 张 三 ok");
  EXPECT_EQ(*DecodeHeaderText("=?gbk?B?1cXI/Q==?="), "张三");
  EXPECT_EQ(*DecodeHeaderText("plain text"), "plain text");
  EXPECT_EQ(*DecodeHeaderText("=?utf-8*zh?B?5byg5LiJ?="), "张三");  // RFC 2231 language tag
  EXPECT_FALSE(DecodeHeaderText("=?x-unknown?B?5byg?="));
}

TEST(ParseHeaderValue, ParamsQuotedAndRfc2231) {
  const auto v = ParseHeaderValue("Multipart/Mixed; boundary=\"a b;c\"; charset=GBK");
  EXPECT_EQ(v.value, "multipart/mixed");
  EXPECT_EQ(v.params.at("boundary"), "a b;c");
  EXPECT_EQ(v.params.at("charset"), "GBK");
  const auto f = ParseHeaderValue("attachment; filename*0*=UTF-8''%E6%96%B9; filename*1*=%E6%A1%88.pdf");
  EXPECT_EQ(f.params.at("filename"), "方案.pdf");
}

TEST(Addresses, ListsAndMessageIds) {
  EXPECT_EQ(ParseAddressList("\"Zhang, San\" <A@B.cn>, c@d.cn; team: e@f.cn, g@h.cn;"),
            (std::vector<std::string>{"a@b.cn", "c@d.cn", "e@f.cn", "g@h.cn"}));
  EXPECT_EQ(ParseMailbox("zhang@x.cn (Zhang San)").name, "Zhang San");
  EXPECT_EQ(ParseMessageIds("<a@b> <c@d>\r\n <e@f>"), (std::vector<std::string>{"a@b", "c@d", "e@f"}));
  EXPECT_EQ(ParseMessageIds("bare@id"), std::vector<std::string>{"bare@id"});
}

TEST(HtmlToText, BlocksEntitiesAndQuotes) {
  EXPECT_EQ(HtmlToText("<p>a&amp;b</p><p>&#x5F20;&#19977;</p><script>x()</script>", false), "a&b\n张三");
  EXPECT_EQ(HtmlToText("<div>yes</div><blockquote>old</blockquote>", true), "yes");
  EXPECT_EQ(HtmlToText("<div>yes</div><div id=\"divRplyFwdMsg\">From: x</div>", true), "yes");
}

TEST(SplitMultipart, FormDataAndPreamble) {
  auto parts = SplitMultipart("preamble\r\n--xx\r\nA: 1\r\n\r\none\r\n--xx\r\n\r\ntwo\r\n--xx--\r\nepilogue", "xx", 10);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2U);
  EXPECT_EQ((*parts)[0], "A: 1\r\n\r\none");
  EXPECT_EQ((*parts)[1], "\r\ntwo");
}

}  // namespace
}  // namespace duijie::channels::email
