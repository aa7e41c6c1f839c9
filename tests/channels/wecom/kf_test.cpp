// 微信客服: parsing sync_msg, addresses, and the sender's reply window against a loopback fake.
#include "channels/wecom/kf.hpp"

#include <deque>
#include <mutex>

#include <gtest/gtest.h>

#include "channels/curl_http_client.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/test_db.hpp"
#include "support/test_http_server.hpp"

namespace duijie::channels::wecom {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(WeComKf, ParsesSyncMessagesAndSkipsEntriesWithoutAnId) {
  const auto page = ParseSyncAnswer(json::parse(R"({
    "errcode": 0, "errmsg": "ok", "next_cursor": "4gw7MepFLfgF2VC5npN", "has_more": 1,
    "msg_list": [
      {"msgid": "from_msgid_4622416642169452483", "open_kfid": "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q",
       "external_userid": "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "send_time": 1615478585, "origin": 3,
       "msgtype": "text", "text": {"content": "我们想找做锂电池材料的专家"}},
      {"msgid": "e1", "open_kfid": "wkA", "send_time": 1615478590, "origin": 4, "msgtype": "event",
       "event": {"event_type": "enter_session", "open_kfid": "wkA", "external_userid": "wmB", "scene": "need"}},
      {"open_kfid": "wkA", "msgtype": "text", "text": {"content": "no id"}},
      {"msgid": "s1", "open_kfid": "wkA", "external_userid": "wmB", "origin": 5, "msgtype": "text",
       "text": {"content": "servicer"}}
    ]})"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->next_cursor, "4gw7MepFLfgF2VC5npN");
  EXPECT_TRUE(page->has_more);
  ASSERT_EQ(page->messages.size(), 3U);
  const auto text = ToInboundEvent(page->messages[0]);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->channel, "wecom_kf");
  EXPECT_EQ(text->sender, "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q/wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw");
  EXPECT_EQ(text->text, "我们想找做锂电池材料的专家");
  EXPECT_TRUE(OpensWindow(page->messages[0]));
  const auto enter = ToInboundEvent(page->messages[1]);
  ASSERT_TRUE(enter);
  EXPECT_EQ(enter->event, "enter_agent");  // greeted like an app's enter_agent
  EXPECT_EQ(enter->sender, "wkA/wmB");
  EXPECT_FALSE(OpensWindow(page->messages[1]));
  EXPECT_FALSE(ToInboundEvent(page->messages[2]));  // a servicer's own message is not for the dialogs
  EXPECT_FALSE(ParseSyncAnswer(json{{"errcode", 0}}));
  // Found by fuzzing: a number sent as text threw out of the whole page; it reads as 0.
  const auto odd = ParseSyncAnswer(json::parse(
      R"({"msg_list": [{"msgid": "m1", "send_time": "1615478585", "origin": "3", "msgtype": "text"}], "has_more": "1"})"));
  ASSERT_TRUE(odd);
  ASSERT_EQ(odd->messages.size(), 1U);
  EXPECT_EQ(odd->messages[0].send_time, 0);
  EXPECT_EQ(odd->messages[0].origin, 0);
  EXPECT_FALSE(odd->has_more);
}

TEST(WeComKf, Addresses) {
  EXPECT_EQ(KfAddress("wk1", "wm2"), "wk1/wm2");
  EXPECT_EQ(SplitKfAddress("wk1/wm2"), (std::pair<std::string, std::string>{"wk1", "wm2"}));
  for (const char* bad : {"wk1", "/wm2", "wk1/", "a/b/c", ""}) EXPECT_FALSE(SplitKfAddress(bad)) << bad;
}

/// kf/send_msg as WeCom answers it: scripted errcodes, each body recorded.
class FakeKf {
 public:
  FakeKf()
      : server_([this](const HttpRequest& req) {
          HttpResponse res{http::status::ok, 11};
          const std::string target(req.target());
          if (target.rfind("/cgi-bin/gettoken", 0) == 0) {
            res.body() = json{{"errcode", 0}, {"access_token", "T"}, {"expires_in", 7200}}.dump();
            return res;
          }
          std::lock_guard lock(mu_);
          int errcode = 0;
          if (!script_.empty()) {
            errcode = script_.front();
            script_.pop_front();
          }
          if (errcode == 0) sent_.push_back(json::parse(req.body()));
          res.body() =
              json{{"errcode", errcode}, {"errmsg", "scripted"}, {"msgid", "kf" + std::to_string(sent_.size())}}.dump();
          return res;
        }) {}
  std::string Base() const { return server_.Url(""); }
  void Script(std::deque<int> s) {
    std::lock_guard lock(mu_);
    script_ = std::move(s);
  }
  std::vector<json> Sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::deque<int> script_;
  std::vector<json> sent_;
  test::TestHttpServer server_;
};

class KfSenderTest : public ::testing::Test {
 protected:
  KfSenderTest() : writer_(db_.Path(), {}) {}

  store::OutboxMessage Message(const std::string& to, const std::string& text) {
    store::OutboxMessage m;
    m.id = 1;
    m.channel = "wecom_kf";
    m.recipient = to;
    m.payload = json(dialogs::TextMessage(text)).dump();
    return m;
  }
  store::AttemptRecord Send(const store::OutboxMessage& m) { return test::RunAwaitable(ioc_, sender_.Send(m)); }
  void CustomerWrote(const std::string& address) {
    const auto now = ToUnixMillis(clock_.Now());
    writer_.RunSync([&](store::Connection& c) {
      OpenReplyWindow(c, address, now);
      return 0;
    });
  }

  net::io_context ioc_;
  test::TestDb db_;
  store::Writer writer_;
  test::FakeClock clock_;
  FakeKf fake_;
  CurlHttpClient http_{2};
  ApiClient api_{http_, clock_, ApiSettings{fake_.Base(), "ww1", "s", "1", 5s}};
  KfSender sender_{api_, writer_, clock_};
};

TEST_F(KfSenderTest, AnswersInsideTheWindowAtMostFivePerCustomerMessage) {
  CustomerWrote("wkA/wmB");
  for (int i = 0; i < 5; ++i) {
    const auto r = Send(Message("wkA/wmB", "答复"));
    EXPECT_EQ(r.outcome, store::AttemptOutcome::kSent) << i << r.error;
  }
  const auto sixth = Send(Message("wkA/wmB", "第六条"));
  EXPECT_EQ(sixth.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(sixth.error.find("window closed"), std::string::npos);
  const auto sent = fake_.Sent();
  ASSERT_EQ(sent.size(), 5U);
  EXPECT_EQ(sent[0],
            json({{"touser", "wmB"}, {"open_kfid", "wkA"}, {"msgtype", "text"}, {"text", {{"content", "答复"}}}}));
  CustomerWrote("wkA/wmB");  // the customer wrote again: five more
  EXPECT_EQ(Send(Message("wkA/wmB", "x")).outcome, store::AttemptOutcome::kSent);
}

TEST_F(KfSenderTest, TheWindowClosesAfter48HoursAndNeverOpensWithoutACustomerMessage) {
  EXPECT_EQ(Send(Message("wkA/wmNever", "x")).outcome, store::AttemptOutcome::kFailed);
  CustomerWrote("wkA/wmB");
  clock_.Advance(48h - 1s);
  EXPECT_EQ(Send(Message("wkA/wmB", "x")).outcome, store::AttemptOutcome::kSent);
  clock_.Advance(1s);
  EXPECT_EQ(Send(Message("wkA/wmB", "x")).outcome, store::AttemptOutcome::kFailed);
  EXPECT_EQ(fake_.Sent().size(), 1U);
}

TEST_F(KfSenderTest, WeComSayingTheWindowIsClosedClosesItAndRetryableErrorsGiveTheAnswerBack) {
  CustomerWrote("wkA/wmB");
  fake_.Script({45009, 45009, 45009, 45009, 45009, 45009});
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Send(Message("wkA/wmB", "x")).outcome, store::AttemptOutcome::kRetryable);
  }
  fake_.Script({95002});
  const auto closed = Send(Message("wkA/wmB", "x"));  // the window still had its five answers
  EXPECT_EQ(closed.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(closed.error.find("95002"), std::string::npos);
  EXPECT_EQ(Send(Message("wkA/wmB", "x")).outcome, store::AttemptOutcome::kFailed);
  EXPECT_TRUE(fake_.Sent().empty());
  EXPECT_EQ(Send(Message("not-an-address", "x")).outcome, store::AttemptOutcome::kFailed);
}

}  // namespace
}  // namespace duijie::channels::wecom
