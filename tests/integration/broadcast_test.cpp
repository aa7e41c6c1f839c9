// A broadcast through the real binary and the real command line: `duijie broadcast create`
// (run twice with the same key: one broadcast), the reminders go out by SMS to the loopback
// Tencent fake (which checks every signature with the vendor's signer), a "1" by SMS
// acknowledges, the report shows it, and cancelling stops the rest.
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sms_fake.hpp"
#include "smtp_peer.hpp"
#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kBroadcastSecret = "test-callback-secret-0123";

class BroadcastEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("duijie.db");
    test::ChildProcess migrate(DUIJIE_BINARY, {"migrate"}, {{"DUIJIE_STORE_PATH", db_}});
    ASSERT_EQ(migrate.Wait(20s), 0);
    {
      store::Connection c(db_, store::ConnectionOptions{});
      c.Db().exec(R"sql(
        INSERT INTO people (id, display_name, role, status, created_at, updated_at) VALUES
          (1, '张三', 'enterprise_contact', 'verified', 0, 0), (2, '李四', 'researcher', 'verified', 0, 0),
          (3, '王五', 'researcher', 'verified', 0, 0);
        INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
          (1, 'mobile', '+8613711110001', 'verified', 0), (2, 'mobile', '+8613711110002', 'verified', 0);
      )sql");
    }
    test::ChildProcess token(DUIJIE_BINARY, {"token", "create", "--name", "hq", "--role", "admin"},
                             {{"DUIJIE_STORE_PATH", db_}});
    ASSERT_EQ(token.Wait(20s), 0);
    token.WaitForEof(5s);
    token_ = token.Stdout();
    while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
    ASSERT_FALSE(token_.empty());
    templates_ = dir_.File("templates.json");
    std::ofstream(templates_) << R"({
      "reminder": {"params": ["text"], "text": "{text}回复TD退订。", "tencent": "1004", "aliyun": "SMS_1004"},
      "reply": {"params": ["text"], "text": "{text}", "tencent": "1001", "aliyun": "SMS_1001"}
    })";
  }

  std::map<std::string, std::string> Env() const {
    return fake_.TencentGateway(db_, kBroadcastSecret, templates_,
                                {{"DUIJIE_BROADCAST_TICK_MS", "50"}, {"DUIJIE_BROADCAST_MILESTONES", "false"}});
  }

  // `duijie broadcast ...` against the gateway on `port`: exit code and stdout.
  std::pair<int, std::string> Cli(std::uint16_t port, std::vector<std::string> args) {
    args.insert(args.begin(), "broadcast");
    args.push_back("--url");
    args.push_back("http://127.0.0.1:" + std::to_string(port));
    test::ChildProcess cli(DUIJIE_BINARY, args, {{"DUIJIE_API_TOKEN", token_}, {"DUIJIE_STORE_PATH", db_}});
    const auto code = cli.Wait(30s);
    cli.WaitForEof(5s);
    if (code != 0) {
      for (const auto& l : cli.Lines()) std::cerr << l << "\n";
    }
    return {code.value_or(-1), cli.Stdout()};
  }

  test::SmsFake fake_;
  test::TempDir dir_;
  std::string db_;
  std::string token_;
  std::string templates_;
};

TEST_F(BroadcastEndToEnd, CreatedTwiceSentOnceAcknowledgedBySmsReportedAndCancelled) {
  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"}, Env());
  const auto port = duijie.WaitForPort();
  const std::vector<std::string> create = {"create",
                                           "--title",
                                           "合同签订提醒",
                                           "--text",
                                           "{name}您好，合同请于{deadline}前签订。",
                                           "--var",
                                           "deadline=2月28日",
                                           "--audience",
                                           R"({"roles": ["enterprise_contact", "researcher"]})",
                                           "--ack",
                                           "30",
                                           "--send",
                                           "now",
                                           "--key",
                                           "contract-reminder-1"};
  const auto [code, out] = Cli(port, create);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("audience: 3 people"), std::string::npos) << out;
  EXPECT_NE(out.find("broadcast 1 "), std::string::npos) << out;
  const auto [again_code, again] = Cli(port, create);
  ASSERT_EQ(again_code, 0);
  EXPECT_NE(again.find("broadcast 1 "), std::string::npos) << "the same key is the same broadcast: " << again;

  const json sent = fake_.WaitSent(2)["sent"];
  ASSERT_EQ(sent.size(), 2U) << sent.dump();
  std::set<std::string> phones;
  for (const auto& s : sent) {
    phones.insert(s["phone"].get<std::string>());
    EXPECT_EQ(s["template"], "1004");
    const std::string text = s["params"][0];
    EXPECT_NE(text.find("合同请于2月28日前签订"), std::string::npos) << text;
    EXPECT_NE(text.find("回复1确认收到"), std::string::npos) << text;
  }
  EXPECT_EQ(phones, (std::set<std::string>{"+8613711110001", "+8613711110002"}));

  // 张三 answers 1 by SMS: acknowledged, and thanked.
  const auto res = test::SmsFake::TencentReply(port, kBroadcastSecret, "13711110001", "1");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200) << res->body();
  const json thanks = fake_.WaitSent(3)["sent"];
  ASSERT_EQ(thanks.size(), 3U);
  EXPECT_EQ(thanks[2]["phone"], "+8613711110001");

  const auto [report_code, report_text] = Cli(port, {"report", "1", "--json"});
  ASSERT_EQ(report_code, 0) << report_text;
  const json report = json::parse(report_text);
  EXPECT_EQ(report["channels"]["sms"]["acknowledged"], 1) << report.dump();
  EXPECT_EQ(report["channels"]["sms"]["sent"], 2) << report.dump();
  EXPECT_EQ(report["skipped"]["no_address"], 1) << "王五 has no address";
  const auto [status_code, status] = Cli(port, {"status", "1"});
  EXPECT_EQ(status_code, 0);
  EXPECT_NE(status.find("(sending)"), std::string::npos) << "李四 has not acknowledged yet: " << status;

  // Cancelled: 李四's next channel never comes.
  const auto [cancel_code, cancelled] = Cli(port, {"cancel", "1"});
  EXPECT_EQ(cancel_code, 0);
  EXPECT_NE(cancelled.find("cancelled"), std::string::npos) << cancelled;
  const auto [csv_code, csv] = Cli(port, {"report", "1", "--csv"});
  EXPECT_EQ(csv_code, 0);
  EXPECT_NE(csv.find("1,张三,enterprise_contact,acknowledged,sms"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("13711110002"), std::string::npos) << "numbers masked: " << csv;
  EXPECT_EQ(fake_.WaitSent(3)["sent"].size(), 3U);
}

// A template staff saved with an SMS text, a mail subject and HTML of its own: the same broadcast
// reaches 张三 by SMS (the approved reminder template) and 赵六 by mail, through a real SMTP
// server, parsed by mailparser.
TEST_F(BroadcastEndToEnd, ASavedTemplateSpeaksEachChannelsLanguage) {
  test::SmtpPeer smtp;
  {
    store::Connection c(db_, store::ConnectionOptions{});
    c.Db().exec(R"sql(
      INSERT INTO people (id, display_name, role, status, created_at, updated_at) VALUES
        (4, '赵六', 'researcher', 'verified', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (4, 'email', 'zhao.liu@example.edu.cn', 'verified', 0);
    )sql");
  }
  auto env = Env();
  env.merge(std::map<std::string, std::string>{{"DUIJIE_EMAIL_SMTP_URL", smtp.Url()},
                                               {"DUIJIE_EMAIL_SMTP_USERNAME", test::SmtpPeer::kUser},
                                               {"DUIJIE_EMAIL_SMTP_PASSWORD", test::SmtpPeer::kPassword},
                                               {"DUIJIE_EMAIL_SMTP_CA_FILE", smtp.CaFile()},
                                               {"DUIJIE_EMAIL_FROM", "noreply@notify.example.cn"}});
  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"}, env);
  const auto port = duijie.WaitForPort();
  const json tmpl = {{"name", "report_due"},
                     {"variables", {"deadline"}},
                     {"title", "总结报告提醒"},
                     {"text", "{name}，您好：总结报告请于{deadline}前提交。"},
                     {"sms", {{"template", "reminder"}, {"params", {{"text", "{name}，总结报告{deadline}截止。"}}}}},
                     {"email",
                      {{"subject", "【提醒】总结报告{deadline}截止"},
                       {"html", "<p>{name}，您好：</p><p><b>{deadline}</b>前提交。</p>"}}}};
  test::HttpConnection c(port, 20s);
  const std::string body = tmpl.dump();
  c.SendRaw("POST /api/v1/templates HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  const auto saved = c.ReadResponse();
  ASSERT_TRUE(saved);
  ASSERT_EQ(saved->result_int(), 201) << saved->body();

  const auto [code, out] =
      Cli(port, {"create", "--title", "总结报告", "--template", "report_due", "--var", "deadline=11月30日",
                 "--audience", R"({"people": [1, 4]})", "--send", "now", "--channels", "sms,email"});
  ASSERT_EQ(code, 0) << out;
  const json sent = fake_.WaitSent(1)["sent"];
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0]["template"], "1004");
  EXPECT_EQ(sent[0]["params"][0], "张三，总结报告11月30日截止。");
  const json mail = smtp.Mail(1);
  ASSERT_EQ(mail.size(), 1U);
  const json& p = mail[0]["parsed"];
  EXPECT_EQ(mail[0]["envelope"]["to"], json::array({"zhao.liu@example.edu.cn"}));
  EXPECT_EQ(p["subject"], "【提醒】总结报告11月30日截止");
  EXPECT_NE(p["html"].get<std::string>().find("<p>赵六，您好：</p><p><b>11月30日</b>前提交。</p>"), std::string::npos)
      << p["html"];
  EXPECT_EQ(p["text"].get<std::string>().rfind("赵六，您好：总结报告请于11月30日前提交。", 0), 0U) << p["text"];
}

TEST_F(BroadcastEndToEnd, TheCommandLineSaysWhatIsWrong) {
  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"}, Env());
  const auto port = duijie.WaitForPort();
  const auto [code, out] = Cli(port, {"create", "--title", "x", "--text", "{who}", "--audience", "{}"});
  EXPECT_EQ(code, 1);
  const auto [missing, out2] = Cli(port, {"status", "99"});
  EXPECT_EQ(missing, 1);
  test::ChildProcess no_token(DUIJIE_BINARY, {"broadcast", "list", "--url", "http://127.0.0.1:1"},
                              {{"DUIJIE_STORE_PATH", db_}});
  EXPECT_EQ(no_token.Wait(20s), 2);
  EXPECT_NE(no_token.WaitForLine("DUIJIE_API_TOKEN", 5s).find("duijie token create"), std::string::npos);
}

}  // namespace
}  // namespace duijie
