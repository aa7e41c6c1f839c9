#include "channels/email/mailgun.hpp"

#include <gtest/gtest.h>

#include "common/digest.hpp"
#include "support/fakes.hpp"

namespace duijie::channels::email {
namespace {

TEST(MailgunSignature, HmacOverTimestampAndToken) {
  const std::string key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
  const std::string sig = HexEncode(HmacSha256(key,
                                               "1529006854"
                                               "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"));
  EXPECT_TRUE(MailgunSignatureValid(key, "1529006854", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0", sig));
  EXPECT_FALSE(MailgunSignatureValid(key, "1529006855", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0", sig));
  EXPECT_FALSE(MailgunSignatureValid("", "1", "t", sig));
  // Known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
  EXPECT_TRUE(MailgunSignatureValid("key", "The quick brown fox ", "jumps over the lazy dog",
                                    "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"));
}

TEST(FormData, UrlencodedAndMultipart) {
  auto f = ParseFormData("recipient=reply%2Bo1-ab%40in.cn&subject=%E4%BD%A0%E5%A5%BD&body-plain=hi+there",
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->Get("recipient"), "reply+o1-ab@in.cn");
  EXPECT_EQ(f->Get("subject"), "你好");
  EXPECT_EQ(f->Get("body-plain"), "hi there");
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"sender\"\r\n\r\na@b.cn\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"报价.pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n%PDF\r\n--XyZ--\r\n";
  auto m = ParseFormData(body, "multipart/form-data; boundary=XyZ");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->Get("sender"), "a@b.cn");
  ASSERT_EQ(m->files.size(), 1U);
  EXPECT_EQ(m->files[0].filename, "报价.pdf");
  EXPECT_EQ(m->files[0].data, "%PDF");
  EXPECT_FALSE(ParseFormData("{}", "application/json"));
  EXPECT_FALSE(ParseFormData("x", "multipart/form-data"));
}

TEST(MailgunMail, FieldsBecomeAParsedMail) {
  FormData f;
  f.fields = {{"recipient", "reply+o7-abc@inbound.example.cn"},
              {"sender", "bounce@x.cn"},
              {"from", "=?UTF-8?B?5byg5LiJ?= <Zhang@X.cn>"},
              {"subject", "Re: 需求"},
              {"body-plain", "好的\n\n> 原文"},
              {"stripped-text", "好的"},
              {"message-headers",
               R"([["Message-Id","<m1@x.cn>"],["In-Reply-To","<duijie.o7.abc@n.cn>"],["Auto-Submitted","no"]])"}};
  auto m = MailgunMail(f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from.name, "张三");
  EXPECT_EQ(m->from.address, "zhang@x.cn");
  EXPECT_EQ(m->message_id, "m1@x.cn");
  EXPECT_EQ(m->in_reply_to, "duijie.o7.abc@n.cn");
  EXPECT_EQ(m->text, "好的");
  EXPECT_FALSE(m->automatic);
  EXPECT_EQ(m->recipients, std::vector<std::string>{"reply+o7-abc@inbound.example.cn"});
  f.fields.back().second = "not json";
  EXPECT_FALSE(MailgunMail(f));
}

TEST(MailgunMail, ItsFilesMeetTheAttachmentLimits) {
  FormData f;
  f.fields = {{"from", "a@b.cn"}, {"body-plain", "发票见附件"}};
  f.files = {{"a.pdf", "application/pdf", "%PDF-1"}, {"b.pdf", "application/pdf", "%PDF-22"}};
  ParseLimits limits;
  limits.max_attachments = 2;
  limits.max_attachment_bytes = 7;
  EXPECT_TRUE(MailgunMail(f, limits));
  limits.max_attachment_bytes = 6;
  EXPECT_EQ(MailgunMail(f, limits).error().code, Errc::kTooLarge);
  limits.max_attachment_bytes = 7;
  limits.max_attachments = 1;
  EXPECT_EQ(MailgunMail(f, limits).error().code, Errc::kTooLarge);
}

TEST(UsedTokens, RefusesAReplayWithinTheWindow) {
  test::FakeClock clock;
  UsedTokens used(clock, std::chrono::minutes(15));
  EXPECT_FALSE(used.Seen("t1"));
  used.Remember("t1");
  EXPECT_TRUE(used.Seen("t1"));
  clock.Advance(std::chrono::minutes(16));
  EXPECT_FALSE(used.Seen("t1"));
}

}  // namespace
}  // namespace duijie::channels::email
