// The email channel against a real SMTP server (smtp-server with STARTTLS and AUTH, a
// certificate made for the run) whose every message mailparser reads back: the SMTP sender in
// process, then the real binary taking mail in (raw MIME, Mailgun) and answering by mail.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "channels/email/compose.hpp"
#include "channels/email/render.hpp"
#include "channels/email/smtp_sender.hpp"
#include "common/digest.hpp"
#include "dialogs/message.hpp"
#include "smtp_peer.hpp"
#include "store/connection.hpp"
#include "support/run.hpp"

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using store::AttemptOutcome;

std::string Base64Of(const json& v) { return *Base64Decode(v.get<std::string>()); }

// 60 characters of Chinese with the GBK-only 堃 and 喆: more than four encoded words.
const std::string kLongSubject =
    "【科技人员服务企业专项行动】王堃、李喆：风机叶片冬季挂冰导致停机的技术需求与您的超疏水表面及低冰黏附涂层研究方向高"
    "度相符";

class SmtpSenderTest : public ::testing::Test {
 protected:
  channels::email::SmtpSettings Smtp(const std::string& url) {
    channels::email::SmtpSettings s;
    s.url = url;
    s.username = test::SmtpPeer::kUser;
    s.password = test::SmtpPeer::kPassword;
    s.ca_file = peer_.CaFile();
    s.timeout = 10s;
    return s;
  }
  channels::email::MailSettings Mail() {
    channels::email::MailSettings m;
    m.from = {"", "noreply@notify.example.cn"};
    m.reply_address = "reply@inbound.example.cn";
    m.token_secret = "integration-secret-0123456789";
    m.unsubscribe_mailto = "unsubscribe@notify.example.cn";
    m.public_base_url = "https://duijie.example.cn";
    m.files_dir = files_.Path().string();
    return m;
  }
  store::OutboxMessage Message(std::int64_t id, const std::string& to, const dialogs::OutboundMessage& m,
                               const std::string& kind = "reminder") {
    store::OutboxMessage msg;
    msg.id = id;
    msg.channel = "email";
    msg.kind = kind;
    msg.recipient = to;
    msg.payload = json(m).dump();
    return msg;
  }
  store::AttemptRecord Send(channels::email::SmtpSender& sender, const store::OutboxMessage& msg) {
    return test::RunAwaitable(ioc_, sender.Send(msg));
  }

  test::SmtpPeer peer_;
  test::TempDir files_;
  SystemClock clock_;
  net::io_context ioc_;
};

TEST_F(SmtpSenderTest, StartTlsAuthAndEveryByteReadBackByMailparser) {
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 256; ++i) pdf += static_cast<char>(i);  // every byte value
  std::ofstream(files_.File("report.pdf"), std::ios::binary) << pdf;
  channels::email::SmtpSender sender(Smtp(peer_.Url()), Mail(), dialogs::Catalogue::Embedded(), clock_);
  auto m = dialogs::TextMessage("王堃老师：\n企业反映风机叶片冬季挂冰，只能停机。\n\n请回复“1”表示有意向。");
  m.title = kLongSubject;
  m.params = {
      {"attachments",
       {{{"filename", "需求说明（2026年·第3号）.pdf"}, {"content_type", "application/pdf"}, {"path", "report.pdf"}}}}};
  const auto r = Send(sender, Message(5, "wang.kun@example.edu.cn", m));
  ASSERT_EQ(r.outcome, AttemptOutcome::kSent) << r.error;
  const json got = peer_.Mail(1);
  ASSERT_EQ(got.size(), 1U);
  const json& p = got[0]["parsed"];
  EXPECT_TRUE(got[0]["secure"].get<bool>()) << "STARTTLS must have happened";
  EXPECT_EQ(got[0]["envelope"]["from"], "noreply@notify.example.cn");
  EXPECT_EQ(got[0]["envelope"]["to"], json::array({"wang.kun@example.edu.cn"}));
  EXPECT_EQ(p["subject"], kLongSubject);
  EXPECT_EQ(p["from"][0]["name"], dialogs::Catalogue::Embedded().Text("zh-CN", "email.from_name"));
  EXPECT_EQ(p["from"][0]["address"], "noreply@notify.example.cn");
  EXPECT_EQ(p["text"].get<std::string>().rfind(
                "王堃老师：\n企业反映风机叶片冬季挂冰，只能停机。\n\n请回复“1”表示有意向。", 0),
            0U)
      << p["text"];
  EXPECT_NE(p["html"].get<std::string>().find("王堃老师："), std::string::npos);
  ASSERT_EQ(p["attachments"].size(), 1U);
  EXPECT_EQ(p["attachments"][0]["filename"], "需求说明（2026年·第3号）.pdf");
  EXPECT_EQ(p["attachments"][0]["contentType"], "application/pdf");
  EXPECT_EQ(Base64Of(p["attachments"][0]["content"]), pdf);
  EXPECT_EQ(p["messageId"], "<" + r.provider_ref + ">");
  EXPECT_EQ(p["replyTo"][0]["address"],
            "reply+" + channels::email::ReplyToken(5, Mail().token_secret) + "@inbound.example.cn");
  EXPECT_NE(p["headers"]["list-unsubscribe"].get<std::string>().find("https://duijie.example.cn/email/unsubscribe/"),
            std::string::npos);
  EXPECT_EQ(p["headers"]["list-unsubscribe-post"], "List-Unsubscribe=One-Click");
  // The raw message: ASCII only, CRLF, no line over 998 octets, no word over 75 characters.
  const std::string raw = Base64Of(got[0]["raw"]);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    ASSERT_LT(static_cast<unsigned char>(raw[i]), 0x80U);
    if (raw[i] == '\n') ASSERT_EQ(raw[i - 1], '\r');
  }
}

TEST_F(SmtpSenderTest, OneConnectionForManyMessagesClosedWhenIdle) {
  auto smtp = Smtp(peer_.Url());
  smtp.idle_close = 300ms;
  channels::email::SmtpSender sender(smtp, Mail(), dialogs::Catalogue::Embedded(), clock_);
  for (int i = 1; i <= 5; ++i) {
    const auto r =
        Send(sender, Message(i, "zhang.san@example.edu.cn", dialogs::TextMessage("第" + std::to_string(i) + "条")));
    ASSERT_EQ(r.outcome, AttemptOutcome::kSent) << r.error;
  }
  EXPECT_EQ(peer_.Mail(5).size(), 5U);
  EXPECT_EQ(peer_.Stats()["connections"], 1) << "the session is reused across messages";
  // Idle longer than idle_close: the sender closes the session itself (QUIT).
  EXPECT_EQ(peer_.WaitClosed(1)["closed"], 1);
}

TEST_F(SmtpSenderTest, NeverFallsBackToPlainText) {
  channels::email::SmtpSender sender(Smtp(peer_.PlainUrl()), Mail(), dialogs::Catalogue::Embedded(), clock_);
  const auto r = Send(sender, Message(1, "zhang.san@example.edu.cn", dialogs::TextMessage("x")));
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetryable);
  EXPECT_NE(r.error.find("SSL"), std::string::npos) << r.error;
  const json stats = peer_.Stats();
  EXPECT_EQ(stats["plain_attempts"], 0) << "credentials must never cross without TLS";
  EXPECT_EQ(peer_.Mail(0).size(), 0U);
}

TEST_F(SmtpSenderTest, ReplyCodesDecideRetryOrGiveUp) {
  channels::email::SmtpSender sender(Smtp(peer_.Url()), Mail(), dialogs::Catalogue::Embedded(), clock_);
  EXPECT_EQ(Send(sender, Message(1, "gone@example.edu.cn", dialogs::TextMessage("x"))).outcome,
            AttemptOutcome::kFailed);
  EXPECT_EQ(Send(sender, Message(2, "busy@example.edu.cn", dialogs::TextMessage("x"))).outcome,
            AttemptOutcome::kRetryable);
  auto wrong = Smtp(peer_.Url());
  wrong.password = "wrong";
  channels::email::SmtpSender bad(wrong, Mail(), dialogs::Catalogue::Embedded(), clock_);
  const auto r = Send(bad, Message(3, "zhang.san@example.edu.cn", dialogs::TextMessage("x")));
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetryable) << "our credentials, not the message";
  EXPECT_EQ(peer_.WaitAuthFailures(1)["auth_failures"], 1);
  EXPECT_EQ(peer_.Mail(0).size(), 0U);
}

}  // namespace
}  // namespace duijie
