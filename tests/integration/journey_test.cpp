// Issue 7's whole journey through the real binary, each side on its real webhook: WeCom callbacks
// sealed by @wecom/crypto for the enterprise, Tencent-shaped SMS replies for the researchers (the
// loopback Tencent API checks every signature with the vendor's signer), the admin API for the
// staff. An enterprise registers and posts a need, two reviews publish it, three researchers are
// pushed, two answer 1 with proposals and one answers 2, the enterprise shortlists both, talks
// with one through the relay, records the contract, sends three documents, the staff verify, the
// report is filed. Then the ledger: every push and every answer once, nothing lost.
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "journey_steps.hpp"
#include "sms_fake.hpp"
#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "wecom_peer.hpp"
#include <signal.h>

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace test::wecom;

constexpr const char* kJourneySecret = "journey-callback-secret-42";

TEST(WholeJourney, FromRegistrationToTheReportEverySideOnItsOwnChannel) {
  test::TempDir dir;
  test::SmsFake fake;
  const std::string db = dir.File("d.db");
  const std::map<std::string, std::string> env = {{"DUIJIE_STORE_PATH", db}};
  ASSERT_EQ(test::RunCommand(DUIJIE_BINARY, {"migrate"}, env).exit_code, 0);
  const auto token = [&](const std::vector<std::string>& args) {
    return test::CreateToken(db, dir.Path().string(), args);
  };
  const std::string wuhan = token({"--name", "wuhan", "--role", "bureau_reviewer", "--region", "hb01"});
  const std::string platform = token({"--name", "platform", "--role", "platform_reviewer"});
  {
    // Three researchers of the field, by SMS.
    store::Connection c(db, store::ConnectionOptions{});
    c.Db().exec(R"sql(
      INSERT INTO units (id, name, kind, created_at) VALUES (1, '华中科技大学', 'university', 0), (2, '武汉大学', 'university', 0);
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
        (101, 'researcher', 'verified', '李四', 0, 0), (102, 'researcher', 'verified', '王五', 0, 0),
        (103, 'researcher', 'verified', '赵六', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (101, 'mobile', '+8613711110001', 'verified', 0), (102, 'mobile', '+8613711110002', 'verified', 0),
        (103, 'mobile', '+8613711110003', 'verified', 0);
      INSERT INTO researchers (person_id, unit_id, title, eligibility, fields, keywords, bio, capacity, status,
                               created_at, updated_at) VALUES
        (101, 1, '教授', 'university_staff', '["energy"]', '["高镍正极材料","循环寿命"]',
         '高镍正极材料循环寿命提升与失效分析', 2, 'verified', 0, 0),
        (102, 2, NULL, 'university_staff', '["energy"]', '["正极材料","容量衰减"]',
         '锂电池正极材料容量衰减机理研究', 2, 'verified', 0, 0),
        (103, 2, '副教授', 'university_staff', '["energy"]', '["锂电池","材料"]', '锂电池材料循环性能', 2,
         'verified', 0, 0);
    )sql");
  }
  const std::string templates = test::WriteSmsTemplates(dir.File("templates.json"));
  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"},
                            fake.TencentGateway(db, kJourneySecret, templates,
                                                {{"DUIJIE_MATCHER_REFRESH_MS", "100"},
                                                 {"DUIJIE_MATCHER_PUSHES_PER_NEED_MIN", "3"},
                                                 {"DUIJIE_MATCHER_SCORE_FLOOR", "0"},
                                                 // Per-number caps would hold notices back an hour (tested elsewhere).
                                                 {"DUIJIE_SMS_PER_HOUR", "0"},
                                                 {"DUIJIE_SMS_PER_DAY", "0"},
                                                 {"DUIJIE_WECOM_CORP_ID", kCorp},
                                                 {"DUIJIE_WECOM_TOKEN", kToken},
                                                 {"DUIJIE_WECOM_AES_KEY", kKey}}),
                            dir.Path().string());
  const auto port = duijie.WaitForPort();

  int n = 3000;
  const auto deliver = [&](const std::string& xml) {
    ++n;
    const auto res = Deliver(port, xml, "j" + std::to_string(n));
    EXPECT_EQ(res.status, 200);
    return res.reply;
  };
  const auto wecom = [&](const std::string& text) { return deliver(TextXml("zhangsan", text, std::to_string(n + 1))); };
  const auto wecom_file = [&](const std::string& media) {
    return deliver(ImageXml("zhangsan", media, std::to_string(n + 1)));
  };
  const auto sms = [&](const std::string& mobile, const std::string& text) {
    const auto res = test::SmsFake::TencentReply(port, kJourneySecret, mobile, text);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 200) << res->body();
  };

  // The enterprise registers and posts its need on WeCom; the mobile is proved by the texted code.
  std::string answer;
  for (const char* t : test::kRegisterAndPost) {
    answer = wecom(std::string(t) == "<code>" ? test::TextedCode(db, "+8613812345678") : std::string(t));
  }
  EXPECT_NE(answer.find("已提交"), std::string::npos) << answer;

  // Two reviews publish it.
  const auto listed = test::Api(port, http::verb::get, "/api/v1/needs?stage=submitted", wuhan);
  const auto need_id = json::parse(listed.body())["needs"][0]["id"].get<std::int64_t>();
  const std::string reviews = "/api/v1/needs/" + std::to_string(need_id) + "/reviews";
  ASSERT_EQ(test::Api(port, http::verb::post, reviews, wuhan, {{"decision", "recommend"}, {"reason", "需求明确，推荐"}})
                .result(),
            http::status::ok);
  ASSERT_EQ(test::Api(port, http::verb::post, reviews, platform, {{"decision", "approve"}}).result(), http::status::ok);

  // Three researchers are pushed by SMS (after the code and the review notices on WeCom).
  json sent;
  std::map<std::string, std::string> codes;  // mobile → reply code
  for (int tries = 0; tries < 20 && codes.size() < 3; ++tries) {
    sent = fake.WaitSent(4)["sent"];
    for (const auto& s : sent) {
      if (s["template"] == "1003") codes[s["phone"]] = s["params"][4];
    }
  }
  ASSERT_EQ(codes.size(), 3U) << sent.dump();
  // Two answer 1 and send a proposal (one in two SMS), one answers 2.
  sms("13711110001", "1 " + codes["+8613711110001"]);
  sms("13711110001", "我们做过高镍正极的表面包覆与掺杂，");
  sms("13711110001", "循环1000次保持率可到92%，约需六个月。");
  sms("13711110002", "1 " + codes["+8613711110002"]);
  sms("13711110002", "建议从电解液添加剂和包覆两条路线同时验证，三个月出样。");
  sms("13711110003", "2 " + codes["+8613711110003"]);

  // The enterprise sees both, shortlists both, talks with the first through the relay.
  answer = wecom("人选");
  ASSERT_NE(answer.find("1. 李四（华中科技大学·教授），有意向：我们做过高镍正极"), std::string::npos) << answer;
  ASSERT_NE(answer.find("2. 王五（武汉大学），有意向：建议从电解液添加剂"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("赵六"), std::string::npos) << answer;
  EXPECT_NE(wecom("初选 1、2").find("加入初选"), std::string::npos);
  EXPECT_NE(wecom("洽谈 1").find("已开始与李四"), std::string::npos);
  sms("13711110001", "请问现在的烧结温度是多少？");
  EXPECT_EQ(wecom("850度，欢迎来厂里看看"), "");
  EXPECT_NE(wecom("选定 1").find("已选定李四"), std::string::npos);

  // The contract, then the three documents as WeCom images.
  for (const char* t : {"登记合同", "1", "开发", "20万", "昨天", "10万"}) answer = wecom(t);
  EXPECT_NE(answer.find("请确认登记技术合同"), std::string::npos) << answer;
  EXPECT_NE(wecom("确认").find("技术合同已登记"), std::string::npos);
  const std::vector<std::pair<std::string, std::string>> documents = {
      {"合同", "MEDIA-CONTRACT"}, {"发票", "MEDIA-INVOICE"}, {"转账凭证", "MEDIA-TRANSFER"}};
  for (const auto& [kind, media] : documents) {
    for (const char* t : {"上传凭证", "1"}) wecom(t);
    wecom(kind);
    wecom_file(media);
    wecom("20万");
    wecom("昨天");
    answer = wecom("确认");
  }
  EXPECT_NE(answer.find("三项凭证已齐"), std::string::npos) << answer;

  // The staff verify; the report is filed.
  const auto contracts = test::Api(port, http::verb::get, "/api/v1/contracts?status=evidenced", wuhan);
  ASSERT_EQ(contracts.result(), http::status::ok) << contracts.body();
  const json listed_contracts = json::parse(contracts.body())["contracts"];
  ASSERT_EQ(listed_contracts.size(), 1U) << contracts.body();
  EXPECT_EQ(listed_contracts[0]["evidence"].size(), 3U);
  const std::string verify =
      "/api/v1/contracts/" + std::to_string(listed_contracts[0]["id"].get<std::int64_t>()) + "/verification";
  EXPECT_EQ(test::Api(port, http::verb::post, verify, wuhan, {{"decision", "verify"}}).result(), http::status::ok);
  for (const char* t : {"提交总结报告", "1"}) wecom(t);
  wecom_file("MEDIA-REPORT");
  wecom("已完成合同约定的循环寿命指标，自主验收合格");
  EXPECT_NE(wecom("确认").find("已收到需求“高镍正极材料循环寿命提升”的总结报告"), std::string::npos);

  // The staff see the whole history of the need.
  const auto need =
      json::parse(test::Api(port, http::verb::get, "/api/v1/needs/" + std::to_string(need_id), wuhan).body());
  EXPECT_EQ(need["stage"], "reported");
  std::string path;
  for (const auto& h : need["history"]) {
    if (h["entity"] == "need") path += (path.empty() ? "" : ">") + h["to"].get<std::string>();
  }
  EXPECT_EQ(path, "submitted>recommended>published>shortlisted>in_talks>contracted>evidenced>reported");

  // The ledger, once the outbox is drained and the gateway stopped: every push and every answer
  // once, nothing lost.
  const auto waiting = [&db] {
    store::ConnectionOptions o;
    o.read_only = true;
    store::Connection c(db, o);
    return c.Db()
        .execAndGet("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending', 'unknown')")
        .getInt64();
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (waiting() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  duijie.Signal(SIGTERM);
  EXPECT_EQ(duijie.Wait(30s), 0);
  store::ConnectionOptions ro;
  ro.read_only = true;
  store::Connection c(db, ro);
  const auto scalar = [&c](const std::string& sql) { return c.Db().execAndGet(sql).getInt64(); };
  EXPECT_EQ(scalar("SELECT count(*) FROM pushes"), 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM pushes WHERE status = 'closed'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM pushes WHERE status = 'declined'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM proposals"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM relay_messages"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM evidence"), 4);
  EXPECT_EQ(scalar("SELECT count(*) FROM contracts WHERE status = 'verified'"), 1);
  // Every inbound message taken once and processed.
  EXPECT_EQ(scalar("SELECT count(*) FROM inbox WHERE status <> 'processed'"), 0);
  // Nothing waiting, failed or dead; every SMS the outbox sent reached Tencent exactly once.
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'delivered', 'sandbox')"), 0);
  const json all_sent = fake.Seen()["sent"];
  std::map<std::string, int> by_session;
  for (const auto& s : all_sent) ++by_session[s["session"].get<std::string>()];
  for (const auto& [session, count] : by_session) EXPECT_EQ(count, 1) << session;
  EXPECT_EQ(static_cast<long long>(by_session.size()),
            scalar("SELECT count(*) FROM outbox WHERE channel = 'sms' AND status IN ('sent', 'delivered')"));
  // Each push went once, each researcher's answer once.
  for (const auto& [mobile, code] : codes) {
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE kind = 'match_push' AND recipient = '" + mobile + "'"), 1);
  }
}

}  // namespace
}  // namespace duijie
