#include "channels/email/render.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "channels/email/parse.hpp"
#include "channels/email/smtp_sender.hpp"
#include "dialogs/message.hpp"
#include "support/temp_dir.hpp"
#include <curl/curl.h>

namespace duijie::channels::email {
namespace {

MailSettings Settings() {
  MailSettings s;
  s.from = {"", "noreply@notify.example.cn"};
  s.reply_address = "reply@inbound.example.cn";
  s.token_secret = "0123456789abcdef0123456789abcdef";
  s.unsubscribe_mailto = "unsubscribe@notify.example.cn";
  s.public_base_url = "https://duijie.example.cn";
  return s;
}

store::OutboxMessage Outbox(std::int64_t id, const std::string& kind, const dialogs::OutboundMessage& m) {
  store::OutboxMessage msg;
  msg.id = id;
  msg.kind = kind;
  msg.channel = "email";
  msg.recipient = "zhang.san@example.edu.cn";
  msg.payload = nlohmann::json(m).dump();
  return msg;
}

TEST(Tokens, RoundTripAndRefuseForgeries) {
  const std::string secret = "s3cret-s3cret-s3cret";
  const auto id = MessageIdFor(42, secret, "notify.example.cn");
  EXPECT_EQ(id.rfind("duijie.o42.", 0), 0U);
  EXPECT_EQ(OutboxIdOfMessageId(id, secret), 42);
  EXPECT_FALSE(OutboxIdOfMessageId(id, "another secret"));
  std::string forged = id;
  forged.replace(forged.find("o42"), 3, "o43");
  EXPECT_FALSE(OutboxIdOfMessageId(forged, secret));
  EXPECT_FALSE(OutboxIdOfMessageId("CAF=abc@mail.gmail.com", secret));
  const auto token = ReplyToken(42, secret);
  EXPECT_EQ(OutboxIdOfToken(token, secret), 42);
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(OutboxIdOfToken(upper, secret), 42) << "some servers upper-case the local part";
  EXPECT_FALSE(OutboxIdOfToken("o42-0000000000000000", secret));
  EXPECT_EQ(PlusToken("reply+" + token + "@inbound.example.cn"), token);
  EXPECT_FALSE(PlusToken("reply@inbound.example.cn"));
}

TEST(RenderOutbox, ABroadcastsOwnSubjectTextAndHtmlWithTheFooterKept) {
  auto m = dialogs::TextMessage("**张三**，请提交报告");  // the WeCom markdown, not for mail
  m.kind = "markdown";
  m.params["mail"] = {{"subject", "【提醒】总结报告11月30日截止"},
                      {"text", "张三，您好：\n\n请于11月30日前提交。"},
                      {"html", "<p>张三，您好：</p><p><b>11月30日</b>前提交。</p>"}};
  auto mail = RenderOutbox(Outbox(9, "reminder", m), Settings(), dialogs::Catalogue::Embedded(), 1'790'000'000, "s");
  ASSERT_TRUE(mail) << mail.error().message;
  EXPECT_EQ(mail->subject, "【提醒】总结报告11月30日截止");
  EXPECT_EQ(mail->text.rfind("张三，您好：\n\n请于11月30日前提交。\n\n-- \n", 0), 0U) << mail->text;
  EXPECT_EQ(mail->text.find("**"), std::string::npos);
  EXPECT_NE(mail->html.find("<p>张三，您好：</p><p><b>11月30日</b>前提交。</p>\n<hr>\n<p>"), std::string::npos)
      << mail->html;
  EXPECT_EQ(mail->html.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_NE(mail->html.find("</body></html>"), std::string::npos);
  // Without HTML of its own, the mail's HTML is made from its text.
  m.params["mail"].erase("html");
  mail = RenderOutbox(Outbox(9, "reminder", m), Settings(), dialogs::Catalogue::Embedded(), 1'790'000'000, "s");
  ASSERT_TRUE(mail);
  EXPECT_NE(mail->html.find("<p>张三，您好：</p>\n<p>请于11月30日前提交。"), std::string::npos) << mail->html;
}

TEST(RenderOutbox, APushWithUnsubscribeAndCatalogueSubject) {
  const auto msg = Outbox(7, "match_push", dialogs::TextMessage("风机叶片挂冰，只能停机。\n回复1表示有意向。"));
  auto mail = RenderOutbox(msg, Settings(), dialogs::Catalogue::Embedded(), 1'790'000'000, "seed");
  ASSERT_TRUE(mail) << mail.error().message;
  EXPECT_EQ(mail->subject, dialogs::Catalogue::Embedded().Text("zh-CN", "email.subject.match_push"));
  EXPECT_EQ(mail->from.name, dialogs::Catalogue::Embedded().Text("zh-CN", "email.from_name"));
  EXPECT_EQ(mail->reply_to, "reply+" + ReplyToken(7, Settings().token_secret) + "@inbound.example.cn");
  EXPECT_EQ(mail->unsubscribe_https,
            "https://duijie.example.cn/email/unsubscribe/" + ReplyToken(7, Settings().token_secret));
  EXPECT_NE(mail->text.find("风机叶片挂冰"), std::string::npos);
  EXPECT_NE(mail->html.find("<br>"), std::string::npos);
  EXPECT_EQ(OutboxIdOfMessageId(mail->message_id, Settings().token_secret), 7);
}

TEST(RenderOutbox, AReplyThreadsUnderTheMailItAnswers) {
  auto m = dialogs::TextMessage("已收到您的方案。");
  m.params = {{"email_in_reply_to", "CAF=abc@mail.gmail.com"},
              {"email_references", {"duijie.o3.x@notify.example.cn"}},
              {"email_subject", "有一项企业技术需求"}};
  auto mail = RenderOutbox(Outbox(8, "reply", m), Settings(), dialogs::Catalogue::Embedded(), 0, "s");
  ASSERT_TRUE(mail);
  EXPECT_EQ(mail->subject, "Re: 有一项企业技术需求");
  EXPECT_EQ(mail->in_reply_to, "CAF=abc@mail.gmail.com");
  EXPECT_EQ(mail->references, (std::vector<std::string>{"duijie.o3.x@notify.example.cn", "CAF=abc@mail.gmail.com"}));
  EXPECT_TRUE(mail->unsubscribe_https.empty()) << "a conversational reply is not a list mail";
}

TEST(RenderOutbox, AttachmentsOnlyFromTheFilesDirectory) {
  test::TempDir dir;
  { std::ofstream(dir.Path() / "report.pdf", std::ios::binary) << "%PDF-report"; }
  MailSettings s = Settings();
  s.files_dir = dir.Path().string();
  auto m = dialogs::TextMessage("总结报告见附件。");
  m.params = {
      {"attachments", {{{"filename", "总结报告.pdf"}, {"content_type", "application/pdf"}, {"path", "report.pdf"}}}}};
  auto mail = RenderOutbox(Outbox(9, "reminder", m), s, dialogs::Catalogue::Embedded(), 0, "s");
  ASSERT_TRUE(mail) << mail.error().message;
  ASSERT_EQ(mail->attachments.size(), 1U);
  EXPECT_EQ(mail->attachments[0].filename, "总结报告.pdf");
  EXPECT_EQ(mail->attachments[0].data, "%PDF-report");
  m.params = {{"attachments", {{{"path", "../../etc/passwd"}}}}};
  auto escaped = RenderOutbox(Outbox(9, "reminder", m), s, dialogs::Catalogue::Embedded(), 0, "s");
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().code, Errc::kPermissionDenied);
}

TEST(RenderOutbox, RefusesWhatCannotBeMail) {
  auto msg = Outbox(1, "reply", dialogs::TextMessage("x"));
  msg.recipient = "a@b.cn\r\nBcc: victim@x.cn";
  EXPECT_FALSE(RenderOutbox(msg, Settings(), dialogs::Catalogue::Embedded(), 0, "s"));
  msg.recipient = "a@b.cn";
  msg.payload = "[1,2]";
  EXPECT_FALSE(RenderOutbox(msg, Settings(), dialogs::Catalogue::Embedded(), 0, "s"));
}

TEST(ClassifySmtp, RetryOrGiveUp) {
  using O = store::AttemptOutcome;
  EXPECT_EQ(ClassifySmtp({CURLE_OK, 250, ""}), O::kSent);
  EXPECT_EQ(ClassifySmtp({CURLE_RECV_ERROR, 450, ""}), O::kRetryable);    // mailbox busy
  EXPECT_EQ(ClassifySmtp({CURLE_SEND_ERROR, 550, ""}), O::kFailed);       // no such user
  EXPECT_EQ(ClassifySmtp({CURLE_LOGIN_DENIED, 535, ""}), O::kRetryable);  // our credentials
  EXPECT_EQ(ClassifySmtp({CURLE_COULDNT_CONNECT, 0, ""}), O::kRetryable);
  EXPECT_EQ(ClassifySmtp({CURLE_USE_SSL_FAILED, 0, ""}), O::kRetryable);  // no STARTTLS: never plain
  EXPECT_EQ(ClassifySmtp({CURLE_URL_MALFORMAT, 0, ""}), O::kFailed);
  // The connection broke after the server's 354: before the whole message went, the server cannot
  // have it; after, it may.
  EXPECT_EQ(ClassifySmtp({CURLE_RECV_ERROR, 354, "", false}), O::kRetryable);
  EXPECT_EQ(ClassifySmtp({CURLE_RECV_ERROR, 354, "", true}), O::kUnknown);
  EXPECT_EQ(ClassifySmtp({CURLE_OPERATION_TIMEDOUT, 354, "", true}), O::kUnknown);
  EXPECT_EQ(ClassifySmtp({CURLE_RECV_ERROR, 451, "", true}), O::kRetryable) << "answered: not taken";
  EXPECT_TRUE(RecipientRefused({O::kFailed, "smtp", "", "Failed sending data to the peer (SMTP 550)"}));
  EXPECT_FALSE(RecipientRefused({O::kFailed, "smtp", "", "Failed sending data to the peer (SMTP 552)"}));
  EXPECT_FALSE(RecipientRefused({O::kRetryable, "smtp", "", "(SMTP 550)"}));
}

}  // namespace
}  // namespace duijie::channels::email
