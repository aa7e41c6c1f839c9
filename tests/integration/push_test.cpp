// Match pushes through the real binary: a published need in the store is planned against the
// researchers the matcher ranks, the push goes out by SMS (the loopback Tencent fake checks every
// signature with the vendor's signer), and the researcher's "1 <code>" reply marks the push
// interested and is answered. Then the enterprise, on WeCom, talks with them through the relay.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sms_fake.hpp"
#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "wecom_peer.hpp"

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPushSecret = "test-callback-secret-0123";

class PushEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("duijie.db");
    test::ChildProcess migrate(DUIJIE_BINARY, {"migrate"}, {{"DUIJIE_STORE_PATH", db_}});
    ASSERT_EQ(migrate.Wait(20s), 0);
    store::Connection c(db_, store::ConnectionOptions{});
    auto& db = c.Db();
    db.exec("INSERT INTO programmes (id, code, name, definition, created_at) VALUES (1, 'hubei-2020', 'h', '{}', 0)");
    db.exec(
        "INSERT INTO people (id, role, status, created_at, updated_at) VALUES (1, 'enterprise_contact', 'verified', 0, "
        "0)");
    db.exec(
        "INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, status, created_at, "
        "updated_at) VALUES (1, '某风电公司', '91420100MA4K00000X', 'hb01', 'energy', 1, 'verified', 0, 0)");
    // The right researcher (anti-icing coatings), a wrong one (pharmacy), and one of a type the
    // programme does not admit.
    const std::vector<std::tuple<int, std::string, std::string, std::string, std::string>> researchers = {
        {2, "+8613711112222", "university_staff", R"(["energy"])", "风机叶片 覆冰 超疏水涂层 低冰黏附"},
        {3, "+8613722223333", "university_staff", R"(["biomed"])", "药物制剂 缓释 微球"},
        {4, "+8613733334444", "masters_student", R"(["energy"])", "风机叶片 覆冰 除冰"}};
    for (const auto& [id, mobile, type, fields, words] : researchers) {
      const std::string pid = std::to_string(id);
      db.exec("INSERT INTO people (id, display_name, role, status, created_at, updated_at) VALUES (" + pid +
              ", '研究员" + pid + "', 'researcher', 'verified', 0, 0)");
      db.exec("INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (" + pid + ", 'mobile', '" +
              mobile + "', 'verified', 0)");
      db.exec(
          "INSERT INTO researchers (person_id, eligibility, fields, keywords, bio, capacity, status, created_at, "
          "updated_at) VALUES (" +
          pid + ", '" + type + "', '" + fields + "', '[]', '" + words + "', 2, 'verified', 0, 0)");
    }
    db.exec(
        "INSERT INTO needs (id, enterprise_id, programme_id, title, problem, targets, field, amount_wan, stage, "
        "created_at, updated_at) VALUES (7, 1, 1, '风机叶片冬季覆冰', '冬天风机叶片挂冰，只能停机', "
        "'覆冰后两小时内恢复发电', "
        "'energy', 20, 'published', 0, 0)");
  }

  test::SmsFake fake_;
  test::TempDir dir_;
  std::string db_;
};

TEST_F(PushEndToEnd, APublishedNeedIsPushedBySmsAndTheAnswerIsTaken) {
  const std::string templates = test::WriteSmsTemplates(dir_.File("templates.json"));
  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"},
                            fake_.TencentGateway(db_, kPushSecret, templates, {{"DUIJIE_MATCHER_REFRESH_MS", "100"}}));
  const auto port = duijie.WaitForPort();
  duijie.WaitForLine("match pushes", 20s);
  const json sent = fake_.WaitSent(1)["sent"];
  if (sent.size() != 1U) {
    for (const auto& l : duijie.Lines()) std::cerr << l << "\n";
  }
  ASSERT_EQ(sent.size(), 1U) << "only the researcher who fits, of an admitted type: " << sent.dump();
  EXPECT_EQ(sent[0]["phone"], "+8613711112222");
  const json params = sent[0]["params"];  // title, enterprise, amount, why, code
  ASSERT_EQ(params.size(), 5U) << params.dump();
  EXPECT_EQ(params[0], "风机叶片冬季覆冰");
  EXPECT_EQ(params[1], "武汉市一家企业");
  EXPECT_EQ(params[2], "20");
  EXPECT_NE(params[3].get<std::string>().find("覆冰"), std::string::npos) << params[3];
  const std::string code = params[4];

  const auto res = test::SmsFake::TencentReply(port, kPushSecret, "13711112222", "1 " + code);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200) << res->body();
  const json answer = fake_.WaitSent(2)["sent"];
  ASSERT_EQ(answer.size(), 2U);
  EXPECT_EQ(answer[1]["phone"], "+8613711112222");
  store::Connection check(db_, store::ConnectionOptions{});
  EXPECT_EQ(check.Db().execAndGet("SELECT status FROM pushes WHERE need_id = 7").getString(), "interested");
  EXPECT_EQ(check.Db().execAndGet("SELECT planned FROM push_rounds WHERE need_id = 7").getInt(), 1);
}

// Extension codes on: the researcher has another push open, yet a bare "1" sent back on the push
// SMS's extension code (as Tencent reports it) answers that push without a question.
TEST_F(PushEndToEnd, ABareReplyOnThePushSmssExtensionCodeAnswersThatPush) {
  {
    store::Connection c(db_, store::ConnectionOptions{});
    const auto now = std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    c.Db().exec(
        "INSERT INTO needs (id, enterprise_id, programme_id, title, field, stage, created_at, updated_at) "
        "VALUES (8, 1, 1, '另一个需求', 'energy', 'published', 0, 0);"
        "INSERT INTO push_rounds (need_id, planned, created_at) VALUES (8, 1, 0);"
        "INSERT INTO pushes (need_id, researcher_person_id, reply_code, status, channel, created_at, updated_at) "
        "VALUES (8, 2, 'ZZZ', 'sent', 'sms', " +
        now + ", " + now + ")");
  }
  const std::string templates = test::WriteSmsTemplates(dir_.File("templates.json"));
  test::ChildProcess duijie(
      DUIJIE_BINARY, {"serve"},
      fake_.TencentGateway(db_, kPushSecret, templates,
                           {{"DUIJIE_MATCHER_REFRESH_MS", "100"}, {"DUIJIE_SMS_EXTEND_CODE_DIGITS", "4"}}));
  const auto port = duijie.WaitForPort();
  const json sent = fake_.WaitSent(1)["sent"];
  ASSERT_EQ(sent.size(), 1U) << sent.dump();
  const std::string extend = sent[0].value("extend", "");
  ASSERT_EQ(extend.size(), 4U) << sent.dump();
  const auto res = test::SmsFake::TencentReply(port, kPushSecret, "13711112222", "1", extend);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200) << res->body();
  ASSERT_EQ(fake_.WaitSent(2)["sent"].size(), 2U);
  store::Connection check(db_, store::ConnectionOptions{});
  EXPECT_EQ(check.Db().execAndGet("SELECT status FROM pushes WHERE need_id = 7").getString(), "interested");
  EXPECT_EQ(check.Db().execAndGet("SELECT status FROM pushes WHERE need_id = 8").getString(), "sent");
}

// The relay through the real binary, each side on its real webhook: the researcher answers the
// push and sends a proposal by SMS (Tencent's reply callback), the enterprise contact — on WeCom,
// callbacks sealed by @wecom/crypto — lists the candidates and opens a talk; the researcher's SMS
// reaches them on WeCom with the number masked, their WeCom answer reaches the researcher by SMS
// through Tencent's API (the fake checks the signature). Each relayed message once, kept.
TEST_F(PushEndToEnd, TheResearcherOnSmsAndTheEnterpriseOnWeComTalkThroughTheRelay) {
  using namespace test::wecom;
  {
    store::Connection c(db_, store::ConnectionOptions{});
    c.Db().exec(
        "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (1, 'wecom_userid', "
        "'zhangsan', 'verified', 0)");
  }
  const std::string templates = test::WriteSmsTemplates(dir_.File("templates.json"));
  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"},
                            fake_.TencentGateway(db_, kPushSecret, templates,
                                                 {{"DUIJIE_MATCHER_REFRESH_MS", "100"},
                                                  {"DUIJIE_WECOM_CORP_ID", kCorp},
                                                  {"DUIJIE_WECOM_TOKEN", kToken},
                                                  {"DUIJIE_WECOM_AES_KEY", kKey}}));
  const auto port = duijie.WaitForPort();
  const std::string code = fake_.WaitSent(1)["sent"][0]["params"][4];
  const auto sms = [&](const std::string& text) {
    const auto res = test::SmsFake::TencentReply(port, kPushSecret, "13711112222", text);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 200) << res->body();
  };
  int msg_id = 900;
  const auto wecom = [&](const std::string& text) {
    ++msg_id;
    const auto res = Deliver(port, TextXml("zhangsan", text, std::to_string(msg_id)), "t" + std::to_string(msg_id));
    EXPECT_EQ(res.status, 200);
    return res.reply;
  };
  sms("1 " + code);
  sms("我们做过风电叶片超疏水涂层和电热除冰，约需六个月。");
  EXPECT_NE(wecom("人选").find("1. 研究员2，有意向：我们做过风电叶片超疏水涂层"), std::string::npos);
  EXPECT_NE(wecom("洽谈 1").find("已开始与研究员2洽谈"), std::string::npos);
  sms("请问叶片多长？我的电话13911112222");
  const auto relayed = [&](const std::string& recipient) {
    store::ConnectionOptions ro;
    ro.read_only = true;
    store::Connection c(db_, ro);
    auto& q = c.Prepare("SELECT payload FROM outbox WHERE kind = 'relay' AND recipient = ? ORDER BY id");
    q.bind(1, recipient);
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(json::parse(q.getColumn(0).getString())["text"].get<std::string>());
    q.reset();
    return out;
  };
  const auto to_enterprise = relayed("zhangsan");
  ASSERT_EQ(to_enterprise.size(), 1U);
  EXPECT_NE(to_enterprise[0].find("研究员2说：请问叶片多长？我的电话139****2222"), std::string::npos)
      << to_enterprise[0];
  EXPECT_EQ(wecom("68米，欢迎来风场看看"), "") << "a relayed message needs no answer";
  // Sent by SMS through the provider: the match push, two answers (interested, the proposal),
  // the talk's notice and the relayed message.
  const json sent = fake_.WaitSent(5)["sent"];
  ASSERT_EQ(sent.size(), 5U) << sent.dump();
  EXPECT_EQ(sent[4]["phone"], "+8613711112222");
  EXPECT_NE(sent[4]["params"][0].get<std::string>().find("某风电公司说：68米，欢迎来风场看看"), std::string::npos)
      << sent[4].dump();
  store::Connection check(db_, store::ConnectionOptions{});
  EXPECT_EQ(check.Db().execAndGet("SELECT count(*) FROM relay_messages").getInt(), 2);
  EXPECT_EQ(check.Db().execAndGet("SELECT stage FROM needs WHERE id = 7").getString(), "in_talks");
  EXPECT_EQ(check.Db().execAndGet("SELECT status || '/' || talk FROM pushes WHERE need_id = 7").getString(),
            "talking/open");
}

}  // namespace
}  // namespace duijie
