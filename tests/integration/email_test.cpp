// The email channel against a real SMTP server (smtp-server with STARTTLS and AUTH, a
// certificate made for the run) whose every message mailparser reads back: the SMTP sender in
// process, then the real binary taking mail in (raw MIME, Mailgun) and answering by mail.
#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "channels/email/compose.hpp"
#include "channels/email/render.hpp"
#include "channels/email/smtp_sender.hpp"
#include "common/digest.hpp"
#include "dialogs/message.hpp"
#include "smtp_peer.hpp"
#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include <iconv.h>

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
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    ASSERT_LT(static_cast<unsigned char>(raw[i]), 0x80U);
    if (raw[i] == '\n') {
      ASSERT_EQ(raw[i - 1], '\r');
      ASSERT_LE(i - 1 - line_start, 998U);
      line_start = i + 1;
    }
  }
  for (auto at = raw.find("=?UTF-8?B?"); at != std::string::npos; at = raw.find("=?UTF-8?B?", at + 10)) {
    const auto end = raw.find("?=", at + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - at, 75U) << raw.substr(at, end + 2 - at);
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

TEST_F(SmtpSenderTest, ImplicitTlsOnSmtps) {
  channels::email::SmtpSender sender(Smtp(peer_.ImplicitTlsUrl()), Mail(), dialogs::Catalogue::Embedded(), clock_);
  const auto r = Send(sender, Message(9, "zhang.san@example.edu.cn", dialogs::TextMessage("端口465")));
  ASSERT_EQ(r.outcome, AttemptOutcome::kSent) << r.error;
  const json got = peer_.Mail(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_TRUE(got[0]["secure"].get<bool>());
  EXPECT_NE(got[0]["parsed"]["text"].get<std::string>().find("端口465"), std::string::npos);
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
  const auto gone = Send(sender, Message(1, "gone@example.edu.cn", dialogs::TextMessage("x")));
  EXPECT_EQ(gone.outcome, AttemptOutcome::kFailed) << gone.error;
  EXPECT_TRUE(channels::email::RecipientRefused(gone)) << gone.error;  // suppressed like a bounce
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

TEST_F(SmtpSenderTest, AMailTakenButNeverAnsweredIsUnknownAndNeverResent) {
  auto settings = Smtp(peer_.Url());
  settings.journal_path = files_.File("smtp-journal");
  auto msg = Message(7, "drop@example.edu.cn", dialogs::TextMessage("合同签订提醒"));
  {
    channels::email::SmtpSender sender(settings, Mail(), dialogs::Catalogue::Embedded(), clock_);
    const auto r = Send(sender, msg);
    EXPECT_EQ(r.outcome, AttemptOutcome::kUnknown) << r.error;
    ASSERT_EQ(peer_.Mail(1).size(), 1U) << "the server has it";
    msg.status = "unknown";
    EXPECT_EQ(test::RunAwaitable(ioc_, sender.Lookup(msg)).recovery, store::Recovery::kStillUnknown);
  }
  // A process that died while these were claimed: the one whose DATA ended may have been taken;
  // the other never reached its end, so the server cannot have it.
  channels::email::SmtpSender restarted(settings, Mail(), dialogs::Catalogue::Embedded(), clock_);
  msg.status = "sending";
  EXPECT_EQ(test::RunAwaitable(ioc_, restarted.Lookup(msg)).recovery, store::Recovery::kStillUnknown);
  auto never = Message(8, "zhang.san@example.edu.cn", dialogs::TextMessage("x"));
  never.status = "sending";
  EXPECT_EQ(test::RunAwaitable(ioc_, restarted.Lookup(never)).recovery, store::Recovery::kWasLost);
  // One the server took before the process died: sent, under its Message-ID.
  auto taken = Message(9, "li.si@example.edu.cn", dialogs::TextMessage("x"));
  const auto sent = Send(restarted, taken);
  ASSERT_EQ(sent.outcome, AttemptOutcome::kSent) << sent.error;
  taken.status = "sending";
  const auto found = test::RunAwaitable(ioc_, restarted.Lookup(taken));
  EXPECT_EQ(found.recovery, store::Recovery::kWasSent);
  EXPECT_EQ(found.provider_ref, sent.provider_ref);
  // Without a journal nothing can be told apart: never resent.
  channels::email::SmtpSender blind(Smtp(peer_.Url()), Mail(), dialogs::Catalogue::Embedded(), clock_);
  EXPECT_EQ(test::RunAwaitable(ioc_, blind.Lookup(never)).recovery, store::Recovery::kStillUnknown);
}

// ---- The binary: mail in, mail out ----

constexpr const char* kInboundSecret = "inbound-secret-0123456789";
constexpr const char* kMailgunKey = "key-mailgun-test-0123456789";

std::string Gbk(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  std::string in = utf8;
  std::string out(in.size() * 2 + 8, '\0');
  char* ip = in.data();
  char* op = out.data();
  std::size_t il = in.size();
  std::size_t ol = out.size();
  iconv(cd, &ip, &il, &op, &ol);
  iconv_close(cd);
  out.resize(out.size() - ol);
  return out;
}

// A mail as a Chinese client writes it: GBK everywhere, base64 body, the quote below.
std::string ClientMail(const std::string& from, const std::string& to, const std::string& subject,
                       const std::string& message_id, const std::string& body, const std::string& in_reply_to = "") {
  std::string m = "From: =?GBK?B?" + Base64Encode(Gbk("张三")) + "?= <" + from + ">\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: =?GBK?B?" + Base64Encode(Gbk(subject)) + "?=\r\n";
  m += "Message-ID: <" + message_id + ">\r\n";
  if (!in_reply_to.empty()) m += "In-Reply-To: <" + in_reply_to + ">\r\nReferences: <" + in_reply_to + ">\r\n";
  m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += channels::email::Base64Lines(Gbk(body));
  return m;
}

class EmailEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("duijie.db");
    duijie_ = std::make_unique<test::ChildProcess>(
        DUIJIE_BINARY, std::vector<std::string>{"serve"},
        std::map<std::string, std::string>{{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                                           {"DUIJIE_STORE_PATH", db_},
                                           {"DUIJIE_STORE_FILES_DIR", dir_.File("files")},
                                           {"DUIJIE_DISPATCHER_RETRY_BASE_MS", "10"},
                                           {"DUIJIE_EMAIL_SMTP_URL", peer_.Url()},
                                           {"DUIJIE_EMAIL_SMTP_USERNAME", test::SmtpPeer::kUser},
                                           {"DUIJIE_EMAIL_SMTP_PASSWORD", test::SmtpPeer::kPassword},
                                           {"DUIJIE_EMAIL_SMTP_CA_FILE", peer_.CaFile()},
                                           {"DUIJIE_EMAIL_FROM", "noreply@notify.example.cn"},
                                           {"DUIJIE_EMAIL_REPLY_ADDRESS", "reply@inbound.example.cn"},
                                           {"DUIJIE_EMAIL_PUBLIC_BASE_URL", "https://duijie.example.cn"},
                                           {"DUIJIE_EMAIL_INBOUND_SECRET", kInboundSecret},
                                           {"DUIJIE_EMAIL_MAILGUN_SIGNING_KEY", kMailgunKey}});
    port_ = duijie_->WaitForPort();
  }

  HttpResponse Post(const std::string& target, const std::string& body, const std::string& type) {
    test::HttpConnection c(port_, 20s);
    c.SendRaw("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type +
              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    auto r = c.ReadResponse();
    if (!r) throw std::runtime_error("no response");
    return *r;
  }
  HttpResponse PostMail(const std::string& raw) {
    return Post(std::string("/email/inbound/") + kInboundSecret, raw, "message/rfc822");
  }
  std::int64_t Count(const std::string& sql) {
    store::Connection c(db_, store::ConnectionOptions{});
    return c.Db().execAndGet(sql).getInt64();
  }
  std::string Mailgun(const std::string& timestamp, const std::string& token, const std::string& key,
                      const std::string& message_id, const std::string& text) {
    const std::string signature = HexEncode(HmacSha256(key, timestamp + token));
    const json headers = json::array({json::array({"Message-Id", "<" + message_id + ">"})});
    std::string form;
    for (const auto& [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"recipient", "reply@inbound.example.cn"},
                                                          {"sender", "li.si@example.edu.cn"},
                                                          {"from", "李四 <li.si@example.edu.cn>"},
                                                          {"subject", "注册"},
                                                          {"body-plain", text},
                                                          {"message-headers", headers.dump()},
                                                          {"timestamp", timestamp},
                                                          {"token", token},
                                                          {"signature", signature}}) {
      form += (form.empty() ? "" : "&") + k + "=" + test::UrlEncode(v);
    }
    return form;
  }

  test::SmtpPeer peer_;
  test::TempDir dir_;
  std::string db_;
  std::unique_ptr<test::ChildProcess> duijie_;
  std::uint16_t port_ = 0;
};

TEST_F(EmailEndToEnd, AnsweredByMailThreadedAndContinuedFromAnotherAddressByInReplyTo) {
  const auto first = PostMail(ClientMail("Zhang.San@example.edu.cn", "reply@inbound.example.cn", kLongSubject,
                                         "m1@example.edu.cn", "你好\n\n在 2026-11-20，科技服务 写道：\n> 旧的内容"));
  ASSERT_EQ(first.result_int(), 200) << first.body();
  const json one = peer_.Mail(1);
  ASSERT_EQ(one.size(), 1U);
  const json& answer = one[0]["parsed"];
  EXPECT_EQ(one[0]["envelope"]["to"], json::array({"zhang.san@example.edu.cn"}));
  EXPECT_EQ(answer["subject"], "Re: " + kLongSubject);
  EXPECT_EQ(answer["inReplyTo"], "<m1@example.edu.cn>");
  EXPECT_EQ(answer["replyTo"][0]["address"].get<std::string>().rfind("reply+o", 0), 0U);
  EXPECT_FALSE(answer["text"].get<std::string>().empty());
  // The provider delivers the same mail again: answered once.
  const auto again = PostMail(
      ClientMail("Zhang.San@example.edu.cn", "reply@inbound.example.cn", kLongSubject, "m1@example.edu.cn", "你好"));
  EXPECT_EQ(json::parse(again.body())["status"], "duplicate");
  // A reply from another address of the same person, without the plus-address: only
  // In-Reply-To names the conversation.
  const std::string ours =
      answer["messageId"].get<std::string>().substr(1, answer["messageId"].get<std::string>().size() - 2);
  const auto second = PostMail(ClientMail("zhang.alias@other.cn", "reply@inbound.example.cn", "Re: " + kLongSubject,
                                          "m2@other.cn", "菜单", ours));
  ASSERT_EQ(second.result_int(), 200) << second.body();
  const json two = peer_.Mail(2);
  ASSERT_EQ(two.size(), 2U);
  EXPECT_EQ(two[1]["envelope"]["to"], json::array({"zhang.san@example.edu.cn"})) << "the conversation continued";
  EXPECT_EQ(two[1]["parsed"]["inReplyTo"], "<m2@other.cn>");
  EXPECT_EQ(Count("SELECT count(*) FROM identities WHERE kind = 'email'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE channel = 'email'"), 2);
}

TEST_F(EmailEndToEnd, MailgunSignedIsTakenForgedStaleAndReplayedAreRefused) {
  const auto now = std::to_string(ToUnixMillis(SystemClock().Now()) / 1000);
  const std::string good = Mailgun(now, "token-0001-abcdefghijklmnopqrstuvwxyz", kMailgunKey, "mg1@x.cn", "你好");
  const auto taken = Post("/email/mailgun", good, "application/x-www-form-urlencoded");
  ASSERT_EQ(taken.result_int(), 200) << taken.body();
  EXPECT_EQ(peer_.Mail(1)[0]["envelope"]["to"], json::array({"li.si@example.edu.cn"}));
  EXPECT_EQ(Post("/email/mailgun", good, "application/x-www-form-urlencoded").result_int(), 406) << "replayed token";
  EXPECT_EQ(Post("/email/mailgun", Mailgun(now, "token-0002-abcdefghijklmnopqrstuvwxyz", "wrong-key", "mg2@x.cn", "x"),
                 "application/x-www-form-urlencoded")
                .result_int(),
            403);
  const auto old = std::to_string(ToUnixMillis(SystemClock().Now()) / 1000 - 3600);
  EXPECT_EQ(Post("/email/mailgun", Mailgun(old, "token-0003-abcdefghijklmnopqrstuvwxyz", kMailgunKey, "mg3@x.cn", "x"),
                 "application/x-www-form-urlencoded")
                .result_int(),
            406);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE channel = 'email'"), 1);
}

TEST_F(EmailEndToEnd, BadMailGetsAClearErrorAndChangesNothing) {
  {  // 30 MB, refused from its Content-Length before the body is read
    test::HttpConnection c(port_, 20s);
    c.SendRaw(std::string("POST /email/inbound/") + kInboundSecret +
              " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: message/rfc822\r\nContent-Length: 31457280\r\n\r\n");
    auto r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 413);
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) {
    deep +=
        "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
  }
  EXPECT_EQ(PostMail("From: a@b.cn\r\nMessage-ID: <bomb1@b.cn>\r\n" + deep).result_int(), 413);
  std::string wide = "From: a@b.cn\r\nMessage-ID: <bomb2@b.cn>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 5000; ++i) wide += "--b\r\n\r\nx\r\n";
  EXPECT_EQ(PostMail(wide + "--b--\r\n").result_int(), 413);
  const auto base64 = PostMail(
      "From: a@b.cn\r\nMessage-ID: <b64@b.cn>\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "5oKo!!5aW9\r\n");
  EXPECT_EQ(base64.result_int(), 400);
  EXPECT_NE(base64.body().find("base64"), std::string::npos) << base64.body();
  const auto charset =
      PostMail("From: a@b.cn\r\nMessage-ID: <cs@b.cn>\r\nContent-Type: text/plain; charset=x-unknown-7\r\n\r\nhi\r\n");
  EXPECT_EQ(charset.result_int(), 400);
  EXPECT_NE(charset.body().find("x-unknown-7"), std::string::npos) << charset.body();
  // One file more than email.max_inbound_attachments (default 20): refused whole, naming the limit.
  std::string files = "From: a@b.cn\r\nMessage-ID: <files@b.cn>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 21; ++i) {
    files += "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"p" +
             std::to_string(i) + ".pdf\"\r\n\r\n%PDF\r\n";
  }
  const auto too_many = PostMail(files + "--b--\r\n");
  EXPECT_EQ(too_many.result_int(), 413);
  EXPECT_NE(too_many.body().find("at most 20"), std::string::npos) << too_many.body();
  EXPECT_EQ(Post("/email/inbound/wrong-secret-0123456789", "From: a@b.cn\r\n\r\nhi", "message/rfc822").result_int(),
            404);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM documents"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(EmailEndToEnd, OneClickUnsubscribeAndBouncesStopMailToTheAddress) {
  ASSERT_EQ(
      PostMail(ClientMail("li.si@example.edu.cn", "reply@inbound.example.cn", "注册", "u1@x.cn", "你好")).result_int(),
      200);
  const json one = peer_.Mail(1);
  ASSERT_EQ(one.size(), 1U);
  const std::string reply_to = one[0]["parsed"]["replyTo"][0]["address"];
  const std::string token = reply_to.substr(6, reply_to.find('@') - 6);  // reply+<token>@
  // A GET (a link scanner, a preview) never unsubscribes; the one-click POST does.
  EXPECT_EQ(test::Get(port_, "/email/unsubscribe/" + token).result_int(), 200);
  EXPECT_EQ(Count("SELECT count(*) FROM suppressions WHERE channel = 'email'"), 0);
  EXPECT_EQ(Post("/email/unsubscribe/" + token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
                .result_int(),
            200);
  EXPECT_EQ(Count("SELECT count(*) FROM suppressions WHERE channel = 'email' AND address = 'li.si@example.edu.cn'"), 1);
  EXPECT_EQ(Post("/email/unsubscribe/o1-0000000000000000", "List-Unsubscribe=One-Click", "x").result_int(), 404);
  // Li Si writes again: the answer is refused by the channel's rules, never sent.
  ASSERT_EQ(
      PostMail(ClientMail("li.si@example.edu.cn", "reply@inbound.example.cn", "注册", "u2@x.cn", "菜单")).result_int(),
      200);
  duijie_->WaitForLine("refused by the channel's rules", 20s);
  // Wang Wu's answer bounces: the message fails and the address is suppressed.
  ASSERT_EQ(PostMail(ClientMail("wang.wu@example.edu.cn", "reply@inbound.example.cn", "注册", "w1@x.cn", "你好"))
                .result_int(),
            200);
  const json two = peer_.Mail(2);
  ASSERT_EQ(two.size(), 2U) << "the refused answer never reached the server";
  EXPECT_EQ(two[1]["envelope"]["to"], json::array({"wang.wu@example.edu.cn"}));
  const std::string id = two[1]["parsed"]["messageId"];
  const std::string dsn =
      "From: MAILER-DAEMON@mx.example.edu.cn\r\nTo: noreply@notify.example.cn\r\nSubject: Undelivered Mail\r\n"
      "Message-ID: <dsn-1@mx.example.edu.cn>\r\nContent-Type: multipart/report; report-type=delivery-status; "
      "boundary=R\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n--R\r\nContent-Type: "
      "message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.edu.cn\r\n\r\nFinal-Recipient: rfc822; "
      "wang.wu@example.edu.cn\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--R\r\nContent-Type: "
      "text/rfc822-headers\r\n\r\nMessage-ID: " +
      id + "\r\n\r\n--R--\r\n";
  // A bounce may overtake the record of its own send: answered 503 then, and taken when sent
  // again, as a mail server retries.
  int status = 0;
  for (int i = 0; i < 2000 && (status = PostMail(dsn).result_int()) == 503; ++i) {
  }
  ASSERT_EQ(status, 200);
  EXPECT_EQ(Count("SELECT count(*) FROM suppressions WHERE channel = 'email' AND address = 'wang.wu@example.edu.cn' "
                  "AND reason = 'bounce'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE recipient = 'wang.wu@example.edu.cn' AND status = 'failed'"), 1);
}

TEST_F(EmailEndToEnd, ChatMailsTheGatewayAndShowsTheMailItSendsBack) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  const std::map<std::string, std::string> env = {{"DUIJIE_STORE_PATH", db_},
                                                  {"DUIJIE_EMAIL_FROM", "noreply@notify.example.cn"},
                                                  {"DUIJIE_EMAIL_REPLY_ADDRESS", "reply@inbound.example.cn"},
                                                  {"DUIJIE_EMAIL_INBOUND_SECRET", kInboundSecret}};
  const auto chat =
      test::RunCommand(DUIJIE_BINARY, {"chat", "--channel", "email", "--from", "Zhao.Liu@example.edu.cn", "--url", url},
                       env, dir_.Path().string(), "你好\n菜单\n/quit\n");
  EXPECT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_NE(chat.out.find("duijie (email) Subject: Re: duijie chat"), std::string::npos) << chat.out;
  EXPECT_EQ(chat.out.find("! "), std::string::npos) << chat.out;
  // The second line was threaded under the gateway's first answer (In-Reply-To), and both
  // answers really went out through SMTP.
  const json sent = peer_.Mail(2);
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[1]["envelope"]["to"], json::array({"zhao.liu@example.edu.cn"}));
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE channel = 'email'"), 2);
  auto missing = env;
  missing.erase("DUIJIE_EMAIL_INBOUND_SECRET");
  const auto no_secret = test::RunCommand(DUIJIE_BINARY, {"chat", "--channel", "email", "--from", "a@b.cn"}, missing,
                                          dir_.Path().string(), "hi\n");
  EXPECT_EQ(no_secret.exit_code, 1);
  EXPECT_NE(no_secret.err.find("DUIJIE_EMAIL_INBOUND_SECRET"), std::string::npos) << no_secret.err;
  EXPECT_EQ(test::RunCommand(DUIJIE_BINARY, {"chat", "--channel", "email", "--from", "not-an-address"}, env).exit_code,
            2);
}

}  // namespace
}  // namespace duijie
