// /wecom/callback through the real binary, with WeCom's side played by the official
// @wecom/crypto npm package (tests/peers/wecom_peer.js).
#include <atomic>
#include <ctime>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "journey_steps.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_http_server.hpp"
#include "wecom_peer.hpp"
#include <signal.h>

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using namespace test::wecom;
using test::Api;
using test::kRegisterAndPost;
using test::TextedCode;
using test::UrlEncode;

class WeComTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<test::ChildProcess>(
        DUIJIE_BINARY, std::vector<std::string>{"serve"},
        std::map<std::string, std::string>{{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                                           {"DUIJIE_STORE_PATH", dir_.File("duijie.db")},
                                           {"DUIJIE_WECOM_CORP_ID", kCorp},
                                           {"DUIJIE_WECOM_TOKEN", kToken},
                                           {"DUIJIE_WECOM_AES_KEY", kKey}},
        dir_.Path().string());
    port_ = server_->WaitForPort();
  }
  void TearDown() override {
    server_->Signal(SIGTERM);
    EXPECT_EQ(server_->Wait(20s), 0);
    for (const auto& l : server_->Lines()) {
      EXPECT_EQ(l.find(kToken), std::string::npos) << "secret in the log: " << l;
      EXPECT_EQ(l.find(kKey), std::string::npos) << "secret in the log: " << l;
    }
  }

  HttpResponse Post(const Sealed& s, const std::string& body) {
    test::HttpConnection conn(port_);
    return conn.Request(http::verb::post, Target(s), body);
  }

  long long Inbox() {
    store::ConnectionOptions o;
    o.read_only = true;
    store::Connection c(dir_.File("duijie.db"), o);
    return c.Db().execAndGet("SELECT count(*) FROM inbox").getInt64();
  }

  json Open(const std::string& reply) {
    return Peer({{"op", "open"}, {"key", kKey}, {"token", kToken}, {"reply", reply}});
  }

  test::TempDir dir_;
  std::unique_ptr<test::ChildProcess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(WeComTest, UrlVerificationAnswersTheBareEchostr) {
  const auto s = Seal("1288432023552776189", "47744683");
  const auto res = test::Get(port_, Target(s) + "&echostr=" + UrlEncode(s.encrypt));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "1288432023552776189");
}

TEST_F(WeComTest, TextGetsAnEncryptedReplyTheOfficialLibraryVerifies) {
  const auto s = Seal(TextXml("ChenJiaShun", "你好，科技专员😀", "1456453720"), "1597212914");
  const auto res = Post(s, Envelope(s.encrypt));
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto opened = Open(res.body());
  EXPECT_TRUE(opened["signature_ok"].get<bool>());
  EXPECT_EQ(opened["id"], kCorp);
  const std::string message = opened["message"];
  EXPECT_NE(message.find("<ToUserName><![CDATA[ChenJiaShun]]></ToUserName>"), std::string::npos) << message;
  // Not something the bot knows: the conversation says so (and how to find out more).
  EXPECT_NE(message.find("没太明白您的意思。回复“菜单”查看能做什么。"), std::string::npos) << message;
  EXPECT_EQ(Inbox(), 1);
}

// A bureau reviewer linked to their WeCom userid by `duijie token create --wecom-userid` sends a
// broadcast by chatting: audience, text, confirmation, preview with the count, 确认.
TEST_F(WeComTest, StaffSendABroadcastByChattingWithinTheirRegion) {
  test::ChildProcess token(DUIJIE_BINARY,
                           {"token", "create", "--name", "wuhan", "--role", "bureau_reviewer", "--region", "hb01",
                            "--wecom-userid", "SunQi"},
                           {{"DUIJIE_STORE_PATH", dir_.File("duijie.db")}});
  ASSERT_EQ(token.Wait(20s), 0);
  {
    store::Connection c(dir_.File("duijie.db"), store::ConnectionOptions{});
    c.Db().exec(R"sql(
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
        (100, 'enterprise_contact', 'verified', '张三', 0, 0), (101, 'enterprise_contact', 'verified', '王二', 0, 0);
      INSERT INTO enterprises (name, credit_code, region, industry, contact_person_id, status, created_at, updated_at)
        VALUES ('某材料公司', '91350100M000200Y1H', 'hb01', 'energy', 100, 'verified', 0, 0),
               ('某药企', '91350100M000100Y43', 'hb02', 'biomed', 101, 'verified', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (100, 'mobile', '+8613800000100', 'verified', 0), (101, 'mobile', '+8613800000101', 'verified', 0);
    )sql");
  }
  int id = 1000;
  const auto say = [&](const std::string& from, const std::string& text) {
    const std::string msg_id = std::to_string(++id);
    const auto s = Seal(TextXml(from, text, msg_id), msg_id);
    const auto res = Post(s, Envelope(s.encrypt));
    EXPECT_EQ(res.result(), http::status::ok);
    return Open(res.body())["message"].get<std::string>();
  };
  EXPECT_NE(say("SunQi", "发通知").find("全部企业联系人（武汉市）"), std::string::npos);
  EXPECT_NE(say("SunQi", "1").find("请输入通知内容"), std::string::npos);
  EXPECT_NE(say("SunQi", "{name}您好，合同请于2月28日前签订。").find("是否需要对方回复确认"), std::string::npos);
  const auto preview = say("SunQi", "不需要");
  EXPECT_NE(preview.find("预计发送1人，例如：张三。"), std::string::npos) << preview;
  EXPECT_NE(say("SunQi", "确认").find("共1人"), std::string::npos);
  // Anyone else saying the same words is not staff.
  EXPECT_EQ(say("ChenJiaShun", "发通知").find("发给谁"), std::string::npos);
  store::ConnectionOptions o;
  o.read_only = true;
  store::Connection c(dir_.File("duijie.db"), o);
  EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM broadcasts WHERE created_by = 'wuhan'").getInt64(), 1);
}

TEST_F(WeComTest, ALongAnswerIsQueuedWholeAndSilentEventsGetAnEmptyReply) {
  // A researcher registration whose confirmation (500-character bio, long keywords) is longer than a
  // passive reply may be: answered empty now, sent whole through the outbox (sandbox mode here).
  std::string bio;
  std::string keywords;
  for (int i = 0; i < 500; ++i) bio += "研";
  for (int i = 0; i < 90; ++i) keywords += "锂";
  const std::vector<std::string> answers = {"科技人员注册", "李四", "华中科技大学", "教授", "1",          "4、6",
                                            keywords,       bio,    "武汉",         "2",    "13912345678"};
  int n = 100;
  for (const auto& answer : answers) {
    ++n;
    const auto step = Seal(TextXml("zhangsan", answer, std::to_string(n)), std::to_string(n));
    const auto res = Post(step, Envelope(step.encrypt));
    ASSERT_EQ(res.result(), http::status::ok);
    ASSERT_FALSE(res.body().empty()) << answer;
  }
  const auto code = Seal(TextXml("zhangsan", TextedCode(dir_.File("duijie.db"), "+8613912345678"), "76"), "7676");
  ASSERT_EQ(Post(code, Envelope(code.encrypt)).result(), http::status::ok);
  const auto s = Seal(TextXml("zhangsan", "跳过", "77"), "7777");
  const auto res = Post(s, Envelope(s.encrypt));
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res.body().empty()) << Open(res.body()).dump();
  {
    store::ConnectionOptions o;
    o.read_only = true;
    store::Connection c(dir_.File("duijie.db"), o);
    EXPECT_EQ(c.Db()
                  .execAndGet("SELECT count(*) FROM outbox WHERE kind = 'reply' AND recipient = 'zhangsan' AND "
                              "inbox_id IS NOT NULL AND payload LIKE '%" +
                              bio.substr(0, 30) + "%'")
                  .getInt64(),
              1);
  }

  const auto click = Seal(EventXml("zhangsan", "click", "menu_1"), "222");
  const auto empty = Post(click, Envelope(click.encrypt));
  EXPECT_EQ(empty.result(), http::status::ok);
  EXPECT_TRUE(empty.body().empty());
  EXPECT_EQ(Inbox(), 14);  // 11 answers, the code, "跳过" and the click
}

TEST_F(WeComTest, RedeliveriesGetTheStoredReplyAndChangeNothing) {
  const auto s = Seal(TextXml("lisi", "第一条", "900001"), "333");
  const auto body = Envelope(s.encrypt);
  std::vector<std::string> replies;
  for (int i = 0; i < 4; ++i) replies.push_back(Post(s, body).body());
  std::vector<std::string> concurrent(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { concurrent[i] = Post(s, body).body(); });
  for (auto& t : threads) t.join();
  for (const auto& r : replies) EXPECT_EQ(r, replies.front());
  for (const auto& r : concurrent) EXPECT_EQ(r, replies.front());
  EXPECT_EQ(Inbox(), 1);
  store::ConnectionOptions o;
  o.read_only = true;
  store::Connection c(dir_.File("duijie.db"), o);
  EXPECT_EQ(c.Db().execAndGet("SELECT deliveries FROM inbox").getInt(), 8);
}

TEST_F(WeComTest, BadInputIsRefusedAndStoresNothing) {
  const auto good = Seal(TextXml("wangwu", "hello", "42"), "444");
  auto forged = good;
  forged.signature[0] = forged.signature[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Post(forged, Envelope(good.encrypt)).result(), http::status::forbidden);

  const auto other_corp = Seal(TextXml("wangwu", "hello", "43"), "445", "ww-another-corp");
  const auto wrong = Post(other_corp, Envelope(other_corp.encrypt));
  EXPECT_EQ(wrong.result(), http::status::forbidden);
  EXPECT_EQ(json::parse(wrong.body())["error"]["code"], "receive_id_mismatch");

  const auto stale = Seal(TextXml("wangwu", "hello", "44"), "446", kCorp, std::to_string(std::time(nullptr) - 3600));
  const auto old = Post(stale, Envelope(stale.encrypt));
  EXPECT_EQ(old.result(), http::status::forbidden);
  EXPECT_EQ(json::parse(old.body())["error"]["code"], "stale_timestamp");

  EXPECT_EQ(Post(good, "<xml><Encrypt>").result(), http::status::bad_request);
  EXPECT_EQ(Post(good, "not xml at all").result(), http::status::bad_request);
  // Correctly signed, but the ciphertext is cut, or not base64: malformed, not forged.
  int n = 0;
  for (const std::string& bad : {good.encrypt.substr(0, good.encrypt.size() - 4), std::string("!!notbase64!!")}) {
    Sealed s{bad, "", Now(), "447" + std::to_string(n++)};
    s.signature = Peer({{"op", "sign"},
                        {"token", kToken},
                        {"timestamp", s.timestamp},
                        {"nonce", s.nonce},
                        {"encrypt", bad}})["signature"];
    const auto res = Post(s, Envelope(bad));
    EXPECT_EQ(res.result(), http::status::bad_request) << res.body();
    EXPECT_EQ(json::parse(res.body())["error"]["code"], "malformed_callback");
  }
  EXPECT_EQ(Inbox(), 0);

  // A captured nonce reused for another payload is refused; the original still goes through.
  EXPECT_EQ(Post(good, Envelope(good.encrypt)).result(), http::status::ok);
  const auto replay = Seal(TextXml("wangwu", "evil", "45"), "444");
  const auto replayed = Post(replay, Envelope(replay.encrypt));
  EXPECT_EQ(replayed.result(), http::status::forbidden);
  EXPECT_EQ(json::parse(replayed.body())["error"]["code"], "replayed_nonce");
  EXPECT_EQ(Inbox(), 1);
}

TEST_F(WeComTest, ChatTalksToTheGatewayAsWeComWould) {
  const auto r = test::RunCommand(
      DUIJIE_BINARY, {"chat", "--user", "zhaoliu", "--url", "http://127.0.0.1:" + std::to_string(port_)},
      {{"DUIJIE_WECOM_CORP_ID", kCorp}, {"DUIJIE_WECOM_TOKEN", kToken}, {"DUIJIE_WECOM_AES_KEY", kKey}},
      dir_.Path().string(), "/subscribe\n帮助\n注册企业\n/click menu_1\n/quit\nnever sent\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("duijie: 您好"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("duijie: 可以回复："), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("请输入企业全称"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(no reply)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("never sent"), std::string::npos);
  EXPECT_EQ(Inbox(), 4);
}

// Outbound: a queued WeCom message goes out through the dispatcher to the (fake) WeCom API, with a
// token fetched once, and ends 'sent' with WeCom's msgid.
TEST(WeComSending, QueuedMessagesAreSentThroughTheApiAndRecorded) {
  std::mutex mu;
  std::vector<json> sent;
  std::atomic<int> gettokens{0};
  test::TestHttpServer fake([&](const HttpRequest& req) {
    HttpResponse res{http::status::ok, 11};
    const std::string target(req.target());
    if (target.rfind("/cgi-bin/gettoken", 0) == 0) {
      ++gettokens;
      res.body() = json{{"errcode", 0}, {"access_token", "TOKEN"}, {"expires_in", 7200}}.dump();
    } else {
      std::lock_guard lock(mu);
      sent.push_back(json::parse(req.body()));
      res.body() = json{{"errcode", 0}, {"errmsg", "ok"}, {"msgid", "m" + std::to_string(sent.size())}}.dump();
    }
    return res;
  });
  test::TempDir dir;
  {
    store::Connection c(dir.File("d.db"), {});
    ASSERT_TRUE(store::Migrate(c));
    for (int i = 0; i < 3; ++i) {
      store::NewOutboxMessage m{"wecom-" + std::to_string(i),
                                "wecom",
                                "user" + std::to_string(i),
                                "reply",
                                json{{"kind", "text"}, {"text", "评审结果：已通过"}}.dump(),
                                std::nullopt,
                                std::nullopt,
                                0,
                                8,
                                0,
                                {},
                                std::nullopt};
      store::OutboxRepository::Enqueue(c, m, 1);
    }
  }
  std::string base = fake.Url("");
  test::ChildProcess server(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                             {"DUIJIE_STORE_PATH", dir.File("d.db")},
                             {"DUIJIE_WECOM_CORP_ID", kCorp},
                             {"DUIJIE_WECOM_SECRET", "app-secret"},
                             {"DUIJIE_WECOM_AGENT_ID", "1000002"},
                             {"DUIJIE_WECOM_API_BASE", base}},
                            dir.Path().string());
  server.WaitForPort();
  store::ConnectionOptions ro;
  ro.read_only = true;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  long long done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    store::Connection c(dir.File("d.db"), ro);
    done = c.Db().execAndGet("SELECT count(*) FROM outbox WHERE status = 'sent'").getInt64();
    if (done == 3) break;
    std::this_thread::sleep_for(20ms);  // waiting for a condition with a deadline, not timing
  }
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);
  EXPECT_EQ(done, 3);
  EXPECT_EQ(gettokens.load(), 1);
  std::lock_guard lock(mu);
  ASSERT_EQ(sent.size(), 3U);
  for (const auto& body : sent) {
    EXPECT_EQ(body["text"]["content"], "评审结果：已通过");
    EXPECT_EQ(body["agentid"], 1000002);
  }
  store::Connection c(dir.File("d.db"), ro);
  EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM outbox WHERE provider_ref LIKE 'm%'").getInt64(), 3);
  EXPECT_EQ(
      c.Db().execAndGet("SELECT count(*) FROM outbox_attempts WHERE sender = 'wecom' AND outcome = 'sent'").getInt64(),
      3);
  for (const auto& l : server.Lines()) EXPECT_EQ(l.find("app-secret"), std::string::npos) << l;
}

// WeCom's API as a loopback fake: gettoken, message/send, update_template_card and the robot
// webhook, each call recorded with its path.
class FakeWeComApi {
 public:
  FakeWeComApi()
      : server_([this](const HttpRequest& req) {
          HttpResponse res{http::status::ok, 11};
          const std::string target(req.target());
          const std::string path = target.substr(0, target.find('?'));
          if (path == "/cgi-bin/gettoken") {
            res.body() = json{{"errcode", 0}, {"access_token", "TOKEN"}, {"expires_in", 7200}}.dump();
            return res;
          }
          if (path == "/cgi-bin/media/get") {
            res.set(http::field::content_type, "image/jpeg");
            res.body() = std::string("\xff\xd8\xff\xe0 a payment proof", 20);
            return res;
          }
          std::lock_guard lock(mu_);
          json body = json::parse(req.body());
          body["_path"] = path;
          body["_query"] = target.substr(target.find('?') + 1);
          calls_.push_back(body);
          if (path == "/cgi-bin/kf/sync_msg") {
            // Pages by cursor; past the last page an empty one, as WeCom answers.
            const auto page = pages_.find(body.value("cursor", ""));
            res.body() = page != pages_.end() ? page->second.dump()
                                              : json{{"errcode", 0},
                                                     {"next_cursor", body.value("cursor", "")},
                                                     {"has_more", 0},
                                                     {"msg_list", json::array()}}
                                                    .dump();
            return res;
          }
          res.body() = json{{"errcode", 0}, {"errmsg", "ok"}, {"msgid", "m" + std::to_string(calls_.size())}}.dump();
          return res;
        }) {}
  std::string Base() const { return server_.Url(""); }
  void Pages(std::map<std::string, json> pages) {
    std::lock_guard lock(mu_);
    pages_ = std::move(pages);
  }
  std::vector<json> Calls(const std::string& path) {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& c : calls_) {
      if (c["_path"] == path) out.push_back(c);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<json> calls_;
  std::map<std::string, json> pages_;
  test::TestHttpServer server_;
};

// Waits for a condition with a deadline (not timing anything).
template <class Predicate>
bool WaitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

TEST(WeComActive, ACardClickGreysOutTheButtonsFilesAreKeptAndRobotsPost) {
  FakeWeComApi api;
  test::TempDir dir;
  {
    store::Connection c(dir.File("d.db"), {});
    ASSERT_TRUE(store::Migrate(c));
    store::NewOutboxMessage m{"robot-1",
                              "wecom_robot",
                              "staff",
                              "reminder",
                              json{{"kind", "markdown"}, {"text", "**申报截止** <@zhangsan> 请跟进"}}.dump(),
                              std::nullopt,
                              std::nullopt,
                              0,
                              8,
                              0,
                              {},
                              std::nullopt};
    store::OutboxRepository::Enqueue(c, m, 1);
  }
  test::ChildProcess server(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                             {"DUIJIE_STORE_PATH", dir.File("d.db")},
                             {"DUIJIE_WECOM_CORP_ID", kCorp},
                             {"DUIJIE_WECOM_TOKEN", kToken},
                             {"DUIJIE_WECOM_AES_KEY", kKey},
                             {"DUIJIE_WECOM_SECRET", "app-secret"},
                             {"DUIJIE_WECOM_AGENT_ID", "1000002"},
                             {"DUIJIE_WECOM_ROBOT_KEYS", "staff=robot-key-1"},
                             {"DUIJIE_WECOM_API_BASE", api.Base()}},
                            dir.Path().string());
  const auto port = server.WaitForPort();
  const auto post = [port](const Sealed& s) {
    test::HttpConnection conn(port);
    return conn.Request(http::verb::post, Target(s), Envelope(s.encrypt));
  };

  const std::string click_xml =
      "<xml><ToUserName><![CDATA[" + std::string(kCorp) +
      "]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><CreateTime>" + Now() +
      "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
      "<EventKey><![CDATA[accept:42]]></EventKey><TaskId><![CDATA[need42-review]]></TaskId>"
      "<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[RC-77]]></ResponseCode>"
      "<AgentID>1000002</AgentID></xml>";
  const auto click = Seal(click_xml, "9001");
  for (int i = 0; i < 2; ++i) {  // a redelivery must not update twice
    const auto res = post(click);
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_TRUE(res.body().empty());
  }
  const std::string image_xml = "<xml><ToUserName><![CDATA[" + std::string(kCorp) +
                                "]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>" +
                                Now() +
                                "</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/p]]>"
                                "</PicUrl><MediaId><![CDATA[MEDIA-1]]></MediaId><MsgId>5151</MsgId>"
                                "<AgentID>1000002</AgentID></xml>";
  const auto image = Seal(image_xml, "9003");
  EXPECT_EQ(post(image).result(), http::status::ok);
  store::ConnectionOptions ro;
  ro.read_only = true;
  const auto documents = [&] {
    store::Connection c(dir.File("d.db"), ro);
    return c.Db()
        .execAndGet(
            "SELECT count(*) FROM documents d JOIN inbox i ON i.id = d.inbox_id "
            "WHERE i.provider_key = 'msg:5151' AND d.media_type = 'image/jpeg' AND d.size_bytes = 20")
        .getInt64();
  };

  EXPECT_TRUE(WaitFor([&] {
    return api.Calls("/cgi-bin/message/update_template_card").size() == 1 &&
           api.Calls("/cgi-bin/webhook/send").size() == 1 && documents() == 1;
  }));
  EXPECT_EQ(documents(), 1);
  // Under the default files directory, next to the database (the server's working directory).
  EXPECT_EQ(std::filesystem::file_size(dir.Path() / "files" / "d9" /
                                       "d92f95e8f89bcceb8b400a0963f164b277fb9f84be3e0aae19f3bc542e3c4982"),
            20U);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);

  const auto updates = api.Calls("/cgi-bin/message/update_template_card");
  ASSERT_EQ(updates.size(), 1U);
  EXPECT_EQ(updates[0]["response_code"], "RC-77");
  EXPECT_EQ(updates[0]["userids"], json({"lisi"}));
  EXPECT_EQ(updates[0]["button"]["replace_name"], "已提交");
  const auto robot = api.Calls("/cgi-bin/webhook/send");
  ASSERT_EQ(robot.size(), 1U);
  EXPECT_EQ(robot[0]["_query"], "key=robot-key-1");
  EXPECT_EQ(robot[0]["markdown"]["content"], "**申报截止** <@zhangsan> 请跟进");
  for (const auto& l : server.Lines()) EXPECT_EQ(l.find("robot-key-1"), std::string::npos) << l;
}

// 微信客服 end to end: the callback only says "pull"; duijie pulls every page once, answers the
// customer inside the window, welcomes with the enter_session code, and a message whose window
// is closed falls back to the next channel.
TEST(WeComKfEndToEnd, PullsOnceAnswersInsideTheWindowAndFallsBack) {
  FakeWeComApi api;
  api.Pages({{"",
              {{"errcode", 0},
               {"next_cursor", "c1"},
               {"has_more", 1},
               {"msg_list",
                {{{"msgid", "m1"},
                  {"open_kfid", "wkA"},
                  {"external_userid", "wmB"},
                  {"send_time", std::time(nullptr)},
                  {"origin", 3},
                  {"msgtype", "text"},
                  {"text", {{"content", "想找锂电池专家"}}}},
                 {{"msgid", "s1"},
                  {"open_kfid", "wkA"},
                  {"external_userid", "wmB"},
                  {"origin", 5},
                  {"msgtype", "text"},
                  {"text", {{"content", "servicer"}}}}}}}},
             {"c1",
              {{"errcode", 0},
               {"next_cursor", "c2"},
               {"has_more", 0},
               {"msg_list",
                {{{"msgid", "e1"},
                  {"origin", 4},
                  {"msgtype", "event"},
                  {"event",
                   {{"event_type", "enter_session"},
                    {"open_kfid", "wkA"},
                    {"external_userid", "wmC"},
                    {"welcome_code", "WELCOME-1"}}}}}}}}});
  test::TempDir dir;
  {
    store::Connection c(dir.File("d.db"), {});
    ASSERT_TRUE(store::Migrate(c));
    store::NewOutboxMessage m{"notice-1",
                              "wecom_kf",
                              "wkA/wmSilent",
                              "reminder",
                              json{{"kind", "text"}, {"text", "您的需求已通过审核"}}.dump(),
                              std::nullopt,
                              std::nullopt,
                              0,
                              8,
                              0,
                              {},
                              std::nullopt};
    m.fallback = {{"sms", "+8613800000000"}};
    store::OutboxRepository::Enqueue(c, m, 1);
  }
  test::ChildProcess server(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                             {"DUIJIE_STORE_PATH", dir.File("d.db")},
                             {"DUIJIE_SMS_QUIET_HOURS", ""},  // the SMS fallback is a notification
                             {"DUIJIE_WECOM_CORP_ID", kCorp},
                             {"DUIJIE_WECOM_TOKEN", kToken},
                             {"DUIJIE_WECOM_AES_KEY", kKey},
                             {"DUIJIE_WECOM_SECRET", "app-secret"},
                             {"DUIJIE_WECOM_AGENT_ID", "1000002"},
                             {"DUIJIE_WECOM_API_BASE", api.Base()}},
                            dir.Path().string());
  const auto port = server.WaitForPort();
  const auto kf_event = [](const std::string& token) {
    return "<xml><ToUserName><![CDATA[" + std::string(kCorp) + "]]></ToUserName><CreateTime>" + Now() +
           "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
           "<Token><![CDATA[" +
           token + "]]></Token><OpenKfId><![CDATA[wkA]]></OpenKfId><FromUserName><![CDATA[sys]]></FromUserName></xml>";
  };
  const auto first = Seal(kf_event("ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"), "7001");
  for (int i = 0; i < 2; ++i) {  // a redelivery queues nothing more
    test::HttpConnection conn(port);
    const auto res = conn.Request(http::verb::post, Target(first), Envelope(first.encrypt));
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_TRUE(res.body().empty());
  }
  store::ConnectionOptions ro;
  ro.read_only = true;
  const auto scalar = [&](const std::string& sql) {
    store::Connection c(dir.File("d.db"), ro);
    return c.Db().execAndGet(sql).getInt64();
  };
  EXPECT_TRUE(WaitFor([&] {
    return api.Calls("/cgi-bin/kf/send_msg").size() == 1 && api.Calls("/cgi-bin/kf/send_msg_on_event").size() == 1 &&
           scalar("SELECT count(*) FROM sandbox_messages WHERE channel = 'sms'") == 1;
  }));
  // A second notification: the cursor is where the last pull stopped, nothing is answered twice.
  const auto second = Seal(kf_event("ENCsecond"), "7002");
  {
    test::HttpConnection conn(port);
    EXPECT_EQ(conn.Request(http::verb::post, Target(second), Envelope(second.encrypt)).result(), http::status::ok);
  }
  EXPECT_TRUE(WaitFor([&] { return api.Calls("/cgi-bin/kf/sync_msg").size() == 3; }));
  EXPECT_TRUE(WaitFor(
      [&] { return scalar("SELECT count(*) FROM outbox WHERE channel = 'wecom_kf_sync' AND status = 'sent'") == 2; }));
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);

  const auto syncs = api.Calls("/cgi-bin/kf/sync_msg");
  ASSERT_EQ(syncs.size(), 3U);
  EXPECT_EQ(syncs[0]["cursor"], "");
  EXPECT_EQ(syncs[0]["token"], "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR");
  EXPECT_EQ(syncs[0]["open_kfid"], "wkA");
  EXPECT_EQ(syncs[1]["cursor"], "c1");
  EXPECT_EQ(syncs[2]["cursor"], "c2");
  EXPECT_EQ(syncs[2]["token"], "ENCsecond");
  const auto answers = api.Calls("/cgi-bin/kf/send_msg");
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0]["touser"], "wmB");
  EXPECT_EQ(answers[0]["open_kfid"], "wkA");
  EXPECT_EQ(answers[0]["text"]["content"], "没太明白您的意思。回复“菜单”查看能做什么。");
  const auto welcome = api.Calls("/cgi-bin/kf/send_msg_on_event");
  ASSERT_EQ(welcome.size(), 1U);
  EXPECT_EQ(welcome[0]["code"], "WELCOME-1");
  EXPECT_EQ(scalar("SELECT count(*) FROM inbox WHERE channel = 'wecom_kf'"), 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM inbox WHERE channel = 'wecom_kf' AND status = 'ignored'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM sync_cursors WHERE scope = 'wkA' AND cursor = 'c2'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE idempotency_key = 'notice-1' AND status = 'failed'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE idempotency_key = 'notice-1>sms' AND status = 'sandbox'"), 1);
}

// Issue 4's journey end to end: an enterprise registers and posts a need on WeCom, the local
// bureau returns it with a reason, the enterprise fixes the flagged field, the bureau recommends,
// the platform approves: published. A bureau of another region is refused.
TEST(ReviewChainEndToEnd, RegisterPostReturnFixRecommendApprove) {
  test::TempDir dir;
  const auto token = [&](const std::vector<std::string>& args) {
    return test::CreateToken(dir.File("d.db"), dir.Path().string(), args);
  };
  const std::string wuhan = token({"--name", "wuhan", "--role", "bureau_reviewer", "--region", "hb01"});
  const std::string yichang = token({"--name", "yichang", "--role", "bureau_reviewer", "--region", "hb04"});
  const std::string platform = token({"--name", "platform", "--role", "platform_reviewer"});

  test::ChildProcess server(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                             {"DUIJIE_STORE_PATH", dir.File("d.db")},
                             {"DUIJIE_WECOM_CORP_ID", kCorp},
                             {"DUIJIE_WECOM_TOKEN", kToken},
                             {"DUIJIE_WECOM_AES_KEY", kKey}},
                            dir.Path().string());
  const auto port = server.WaitForPort();
  int msg_id = 5000;
  std::string last_answer;
  const auto say = [&](const std::string& text) {
    ++msg_id;
    const auto res = Deliver(port, TextXml("zhangsan", text, std::to_string(msg_id)), "n" + std::to_string(msg_id));
    ASSERT_EQ(res.status, 200) << text;
    last_answer = res.reply;
  };
  for (const char* t : kRegisterAndPost) {
    say(std::string(t) == "<code>" ? TextedCode(dir.File("d.db"), "+8613812345678") : std::string(t));
  }
  EXPECT_NE(last_answer.find("已提交"), std::string::npos) << last_answer;

  const auto listed = Api(port, http::verb::get, "/api/v1/needs?stage=submitted", wuhan);
  ASSERT_EQ(listed.result(), http::status::ok) << listed.body();
  const auto needs = json::parse(listed.body())["needs"];
  ASSERT_EQ(needs.size(), 1U);
  const std::string reviews = "/api/v1/needs/" + std::to_string(needs[0]["id"].get<int>()) + "/reviews";
  const auto outside = Api(port, http::verb::post, reviews, yichang, {{"decision", "recommend"}, {"reason", "x"}});
  EXPECT_EQ(outside.result(), http::status::forbidden) << outside.body();

  const auto returned =
      Api(port, http::verb::post, reviews, wuhan,
          {{"decision", "return"}, {"reason", "技术指标不明确，请给出可验收的数字"}, {"fields", {"targets"}}});
  ASSERT_EQ(returned.result(), http::status::ok) << returned.body();
  EXPECT_EQ(json::parse(returned.body())["stage"], "returned");

  say("修改需求");
  EXPECT_NE(last_answer.find("希望达到的技术指标"), std::string::npos) << last_answer;
  say("循环1000次容量保持率不低于90%");
  say("确认");
  EXPECT_NE(last_answer.find("重新提交"), std::string::npos) << last_answer;

  EXPECT_EQ(
      Api(port, http::verb::post, reviews, wuhan, {{"decision", "recommend"}, {"reason", "指标已明确，推荐"}}).result(),
      http::status::ok);
  const auto approved = Api(port, http::verb::post, reviews, platform, {{"decision", "approve"}});
  ASSERT_EQ(approved.result(), http::status::ok) << approved.body();
  const auto need = json::parse(approved.body());
  EXPECT_EQ(need["stage"], "published");
  ASSERT_EQ(need["reviews"].size(), 3U);
  EXPECT_EQ(need["reviews"][0]["decision"], "return");

  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);
  store::ConnectionOptions ro;
  ro.read_only = true;
  store::Connection c(dir.File("d.db"), ro);
  EXPECT_EQ(c.Db().execAndGet("SELECT targets FROM needs").getString(), "循环1000次容量保持率不低于90%");
  // Told on WeCom (sandbox mode here) after each decision: returned, recommended, published.
  EXPECT_EQ(
      c.Db().execAndGet("SELECT count(*) FROM outbox WHERE kind = 'notice' AND recipient = 'zhangsan'").getInt64(), 3);
  EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM audit_log").getInt64(), 3);
  for (const auto& l : server.Lines()) {
    EXPECT_EQ(l.find(wuhan), std::string::npos) << "token in the log: " << l;
  }
}

// Staff review from their WeCom cards through the real binary, every callback sealed by
// @wecom/crypto: the posted need reaches the Wuhan bureau's reviewer as a button card (not
// Yichang's); 退回 asks the reason and the fields, 确认 returns it; the enterprise fixes it; the
// resubmitted need comes as a new card, 推荐 asks the recommendation; the platform's card is
// approved with one click. Every decision recorded as the reviewer's act on WeCom.
TEST(ReviewChainEndToEnd, ReviewersDecideFromTheirWeComCards) {
  test::TempDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--name", "wuhan", "--role", "bureau_reviewer", "--region", "hb01", "--wecom-userid", "SunQi"},
           {"--name", "yichang", "--role", "bureau_reviewer", "--region", "hb04", "--wecom-userid", "LiSi"},
           {"--name", "platform", "--role", "platform_reviewer", "--wecom-userid", "ZhouBa"}}) {
    ASSERT_FALSE(test::CreateToken(dir.File("d.db"), dir.Path().string(), args).empty());
  }
  test::ChildProcess server(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                             {"DUIJIE_STORE_PATH", dir.File("d.db")},
                             {"DUIJIE_WECOM_CORP_ID", kCorp},
                             {"DUIJIE_WECOM_TOKEN", kToken},
                             {"DUIJIE_WECOM_AES_KEY", kKey}},
                            dir.Path().string());
  const auto port = server.WaitForPort();
  int n = 7000;
  const auto deliver = [&](const std::string& xml) {
    ++n;
    const auto res = Deliver(port, xml, "r" + std::to_string(n));
    EXPECT_EQ(res.status, 200);
    return res.reply;
  };
  const auto say = [&](const std::string& from, const std::string& text) {
    return deliver(TextXml(from, text, std::to_string(n + 1)));
  };
  const auto click = [&](const std::string& from, const std::string& key, const std::string& task) {
    return deliver("<xml><ToUserName><![CDATA[" + std::string(kCorp) + "]]></ToUserName><FromUserName><![CDATA[" +
                   from + "]]></FromUserName><CreateTime>" + Now() +
                   "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
                   "<EventKey><![CDATA[" +
                   key + "]]></EventKey><TaskId><![CDATA[" + task +
                   "]]></TaskId>"
                   "<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[RC" +
                   std::to_string(n) + "]]></ResponseCode><AgentID>1000002</AgentID></xml>");
  };
  std::string answer;
  for (const char* t : kRegisterAndPost) {
    answer = say("zhangsan", std::string(t) == "<code>" ? TextedCode(dir.File("d.db"), "+8613812345678") : t);
  }
  EXPECT_NE(answer.find("已提交"), std::string::npos) << answer;

  store::ConnectionOptions ro;
  ro.read_only = true;
  // The review cards queued for a WeCom member (sandbox mode records them as sent).
  const auto cards = [&](const std::string& userid) {
    store::Connection c(dir.File("d.db"), ro);
    auto& q = c.Prepare("SELECT payload FROM outbox WHERE kind = 'review_card' AND recipient = ? ORDER BY id");
    q.bind(1, userid);
    std::vector<json> out;
    while (q.executeStep()) out.push_back(json::parse(q.getColumn(0).getString()));
    q.reset();
    return out;
  };
  auto wuhan = cards("SunQi");
  ASSERT_EQ(wuhan.size(), 1U);
  EXPECT_TRUE(cards("LiSi").empty());
  EXPECT_TRUE(cards("ZhouBa").empty());
  const std::string task = wuhan[0]["params"]["task_id"];
  const std::string return_key = wuhan[0]["params"]["buttons"][1]["key"];
  ASSERT_EQ(return_key.rfind("review:", 0), 0U) << return_key;
  const std::string need = return_key.substr(7, return_key.rfind(':') - 7);

  EXPECT_NE(click("LiSi", return_key, task).find("不由您处理"), std::string::npos);
  EXPECT_NE(click("SunQi", return_key, task).find("请写退回理由"), std::string::npos);
  EXPECT_NE(say("SunQi", "技术指标不明确，请给出可验收的数字").find("需要企业修改哪些项"), std::string::npos);
  EXPECT_NE(say("SunQi", "3").find("需修改的项：目标指标"), std::string::npos);
  EXPECT_NE(say("SunQi", "确认").find("已退回需求"), std::string::npos);

  EXPECT_NE(say("zhangsan", "修改需求").find("希望达到的技术指标"), std::string::npos);
  say("zhangsan", "循环1000次容量保持率不低于90%");
  EXPECT_NE(say("zhangsan", "确认").find("重新提交"), std::string::npos);

  wuhan = cards("SunQi");
  ASSERT_EQ(wuhan.size(), 2U);
  EXPECT_NE(wuhan[1]["params"]["task_id"], task);  // a new card: WeCom wants task ids unique
  EXPECT_NE(click("SunQi", "review:" + need + ":recommend", wuhan[1]["params"]["task_id"]).find("请输入推荐意见"),
            std::string::npos);
  say("SunQi", "指标已明确，推荐");
  EXPECT_NE(say("SunQi", "确认").find("已转平台审核"), std::string::npos);

  const auto platform = cards("ZhouBa");
  ASSERT_EQ(platform.size(), 1U);
  const std::string approve_key = platform[0]["params"]["buttons"][0]["key"];
  EXPECT_EQ(approve_key, "review:" + need + ":approve");
  EXPECT_NE(click("ZhouBa", approve_key, platform[0]["params"]["task_id"]).find("需求已发布"), std::string::npos);

  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);
  store::Connection c(dir.File("d.db"), ro);
  EXPECT_EQ(c.Db().execAndGet("SELECT stage FROM needs").getString(), "published");
  EXPECT_EQ(c.Db().execAndGet("SELECT targets FROM needs").getString(), "循环1000次容量保持率不低于90%");
  EXPECT_EQ(
      c.Db()
          .execAndGet("SELECT count(*) FROM transitions t JOIN identities i ON i.person_id = t.actor_person_id AND "
                      "i.kind = 'wecom_userid' WHERE t.entity = 'need' AND t.channel = 'wecom' AND "
                      "t.to_state IN ('returned', 'recommended', 'published') AND i.address IN ('SunQi', 'ZhouBa')")
          .getInt64(),
      3);
  EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM audit_log WHERE action = 'need.review'").getInt64(), 3);
  // The enterprise told of each decision; every card's click greyed out through the outbox.
  EXPECT_EQ(
      c.Db().execAndGet("SELECT count(*) FROM outbox WHERE kind = 'notice' AND recipient = 'zhangsan'").getInt64(), 3);
  EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM outbox WHERE kind = 'card_update'").getInt64(), 4);
}

TEST(WeComNotConfigured, CallbackAnswers503AndChatSaysWhatToSet) {
  test::TempDir dir;
  test::ChildProcess server(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"}, {"DUIJIE_STORE_PATH", dir.File("d.db")}},
                            dir.Path().string());
  const auto port = server.WaitForPort();
  const auto res = test::Get(port, "/wecom/callback?msg_signature=x&timestamp=1&nonce=1&echostr=x");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(json::parse(res.body())["error"]["code"], "channel_not_configured");
  const auto chat = test::RunCommand(DUIJIE_BINARY, {"chat", "--user", "u"}, {}, dir.Path().string(), "hi\n");
  EXPECT_EQ(chat.exit_code, 1);
  EXPECT_NE(chat.err.find("DUIJIE_WECOM_TOKEN"), std::string::npos) << chat.err;
  EXPECT_EQ(test::RunCommand(DUIJIE_BINARY, {"chat", "--user", "u", "--channel", "fax"}).exit_code, 2);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);
}

}  // namespace
}  // namespace duijie
