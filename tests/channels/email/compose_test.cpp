#include "channels/email/compose.hpp"

#include <gtest/gtest.h>

#include "channels/email/parse.hpp"

namespace duijie::channels::email {
namespace {

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto end = s.find("\r\n", pos);
    out.push_back(s.substr(pos, end - pos));
    if (end == std::string::npos) break;
    pos = end + 2;
  }
  return out;
}

TEST(EncodeHeaderText, AsciiStaysAsItIs) {
  EXPECT_EQ(EncodeHeaderText("Re: your need"), "Re: your need");
  EXPECT_NE(EncodeHeaderText("a =?x?= trick"), "a =?x?= trick");  // would be decoded by readers
}

TEST(EncodeHeaderText, WordsStayShortAndNeverSplitACharacter) {
  // 60 Chinese characters (180 bytes) and some ASCII mixed in.
  std::string subject = "【科技成果对接】";
  for (int i = 0; i < 13; ++i) subject += "企业技术需求";
  subject += " 280Ah";
  const std::string encoded = EncodeHeaderText(subject);
  std::string decoded_back;
  for (const auto& line : Lines(encoded)) {
    const std::string word = line.substr(line.find("=?"));
    EXPECT_LE(word.size(), 75U) << word;
    ASSERT_EQ(word.rfind("=?UTF-8?B?", 0), 0U);
    ASSERT_EQ(word.substr(word.size() - 2), "?=");
    // Each word alone must be valid UTF-8: decoding it on its own must give whole characters.
    auto alone = DecodeHeaderText(word);
    ASSERT_TRUE(alone) << word;
    decoded_back += *alone;
  }
  EXPECT_EQ(decoded_back, subject);
  EXPECT_EQ(*DecodeHeaderText(encoded), subject);
}

TEST(FormatMailbox, EncodesOrQuotesTheName) {
  EXPECT_EQ(FormatMailbox({"", "a@b.cn"}), "a@b.cn");
  EXPECT_EQ(FormatMailbox({"Zhang San", "a@b.cn"}), "Zhang San <a@b.cn>");
  EXPECT_EQ(FormatMailbox({"Zhang, San", "a@b.cn"}), "\"Zhang, San\" <a@b.cn>");
  EXPECT_EQ(FormatMailbox({"科技成果对接", "noreply@notify.example.cn"}),
            "=?UTF-8?B?56eR5oqA5oiQ5p6c5a+55o6l?= <noreply@notify.example.cn>");  // spec §6.2 sample
}

TEST(FormatDate, Rfc5322WithTheZone) {
  EXPECT_EQ(FormatDate(1700000000, 480), "Wed, 15 Nov 2023 06:13:20 +0800");
  EXPECT_EQ(FormatDate(1700000000, 0), "Tue, 14 Nov 2023 22:13:20 +0000");
}

OutgoingMail Sample() {
  OutgoingMail m;
  m.from = {"科技成果对接", "noreply@notify.example.cn"};
  m.to = {{"张三", "zhang.san@example.edu.cn"}};
  m.bcc = {"audit@notify.example.cn"};
  m.reply_to = "reply+o42-abc@inbound.example.cn";
  m.subject = "【科技成果对接】您有3条新的企业技术需求匹配";
  m.message_id = "duijie.o42.abc@notify.example.cn";
  m.in_reply_to = "CAF=abc123@mail.gmail.com";
  m.references = {"x1@notify.example.cn", "CAF=abc123@mail.gmail.com"};
  m.unsubscribe_mailto = "unsubscribe@notify.example.cn?subject=unsubscribe-o42-abc";
  m.unsubscribe_https = "https://notify.example.cn/email/unsubscribe/o42-abc";
  m.text = "您好，张老师：\n风机叶片挂冰，只能停机。";
  m.html = "<p>您好，张老师：</p>";
  m.attachments = {{"需求说明.pdf", "application/pdf", std::string("%PDF\0\x01\xff", 7)}};
  m.date_unix = 1700000000;
  m.boundary_seed = "seed";
  return m;
}

TEST(Compose, CrlfAsciiLinesWithinLimits) {
  const std::string raw = Compose(Sample());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    ASSERT_LT(c, 0x80) << "non-ASCII byte at " << i;
    if (raw[i] == '\n') {
      ASSERT_EQ(raw[i - 1], '\r') << "bare LF at " << i;
    }
  }
  for (const auto& line : Lines(raw)) EXPECT_LE(line.size(), 998U);
  EXPECT_EQ(raw.find("audit@"), std::string::npos) << "Bcc must never reach a header";
  EXPECT_NE(raw.find("\r\nList-Unsubscribe: <mailto:unsubscribe@notify.example.cn?subject=unsubscribe-o42-abc>, "
                     "<https://notify.example.cn/email/unsubscribe/o42-abc>\r\n"),
            std::string::npos);
  EXPECT_NE(raw.find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nMessage-ID: <duijie.o42.abc@notify.example.cn>\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nIn-Reply-To: <CAF=abc123@mail.gmail.com>\r\n"), std::string::npos);
}

TEST(Compose, OurParserReadsBackEverything) {
  const OutgoingMail m = Sample();
  auto parsed = ParseMail(Compose(m));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->subject, m.subject);
  EXPECT_EQ(parsed->from.name, "科技成果对接");
  EXPECT_EQ(parsed->from.address, "noreply@notify.example.cn");
  EXPECT_EQ(parsed->recipients, std::vector<std::string>{"zhang.san@example.edu.cn"});
  EXPECT_EQ(parsed->message_id, m.message_id);
  EXPECT_EQ(parsed->in_reply_to, m.in_reply_to);
  EXPECT_EQ(parsed->references, m.references);
  EXPECT_EQ(parsed->text, m.text);
  EXPECT_EQ(parsed->html, m.html);
  ASSERT_EQ(parsed->attachments.size(), 1U);
  EXPECT_EQ(parsed->attachments[0].filename, "需求说明.pdf");
  EXPECT_EQ(parsed->attachments[0].content_type, "application/pdf");
  EXPECT_EQ(parsed->attachments[0].data, m.attachments[0].data);
}

TEST(Compose, TextOnlyIsOnePart) {
  OutgoingMail m = Sample();
  m.html.clear();
  m.attachments.clear();
  m.unsubscribe_https.clear();
  const std::string raw = Compose(m);
  EXPECT_NE(raw.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_EQ(raw.find("multipart"), std::string::npos);
  EXPECT_EQ(raw.find("List-Unsubscribe-Post"), std::string::npos) << "one-click needs an https URI";
}

TEST(Envelope, ToCcAndBcc) {
  OutgoingMail m = Sample();
  m.cc = {{"", "cc@x.cn"}};
  EXPECT_EQ(EnvelopeRecipients(m),
            (std::vector<std::string>{"zhang.san@example.edu.cn", "cc@x.cn", "audit@notify.example.cn"}));
}

TEST(PlausibleAddress, RefusesInjection) {
  EXPECT_TRUE(PlausibleAddress("zhang.san+tag@example.edu.cn"));
  EXPECT_FALSE(PlausibleAddress("a@b.cn\r\nBcc: x@y.cn"));
  EXPECT_FALSE(PlausibleAddress("no-at-sign.cn"));
  EXPECT_FALSE(PlausibleAddress("a@localhost"));
  EXPECT_FALSE(PlausibleAddress("<a@b.cn>"));
}

}  // namespace
}  // namespace duijie::channels::email
