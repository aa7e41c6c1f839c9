// The WeCom sender against a loopback fake of the WeCom API (gettoken, message/send).
#include "channels/wecom/sender.hpp"

#include <deque>
#include <future>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "channels/curl_http_client.hpp"
#include "dialogs/message.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/test_http_server.hpp"

namespace duijie::channels::wecom {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

/// Scripted WeCom API. Each message/send pops the next behaviour; gettoken hands out T1, T2, ...
class FakeWeCom {
 public:
  FakeWeCom() : server_([this](const HttpRequest& req) { return Handle(req); }) {}

  std::string Base() const { return server_.Url("").substr(0, server_.Url("").size()); }
  void Script(std::deque<std::string> s) {
    std::lock_guard lock(mu_);
    script_ = std::move(s);
  }
  void FailGettoken(int errcode) { gettoken_error_ = errcode; }
  int Gettokens() const { return gettokens_; }
  std::vector<json> Sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::promise<void> release;

 private:
  HttpResponse Json(const json& j) {
    HttpResponse res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = j.dump();
    return res;
  }
  HttpResponse Handle(const HttpRequest& req) {
    const std::string target(req.target());
    if (target.rfind("/cgi-bin/gettoken", 0) == 0) {
      ++gettokens_;
      if (gettoken_error_ != 0) return Json({{"errcode", gettoken_error_.load()}, {"errmsg", "invalid credential"}});
      return Json({{"errcode", 0},
                   {"errmsg", "ok"},
                   {"access_token", "T" + std::to_string(gettokens_.load())},
                   {"expires_in", 7200}});
    }
    std::string behaviour = "ok";
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        behaviour = script_.front();
        script_.pop_front();
      }
      json body = json::parse(req.body());
      body["_token"] = target.substr(target.find("access_token=") + 13);
      body["_path"] = target.substr(0, target.find('?'));
      sent_.push_back(body);
    }
    if (behaviour == "expired") return Json({{"errcode", 42001}, {"errmsg", "access_token expired"}});
    if (behaviour == "rate") return Json({{"errcode", 45009}, {"errmsg", "api freq out of limit"}});
    if (behaviour == "invaliduser") return Json({{"errcode", 0}, {"errmsg", "ok"}, {"invaliduser", "nobody"}});
    if (behaviour == "all_invalid") return Json({{"errcode", 81013}, {"errmsg", "user & party & tag all invalid"}});
    if (behaviour == "refused") return Json({{"errcode", 60020}, {"errmsg", "not allow to access from your ip"}});
    if (behaviour == "5xx") return HttpResponse{http::status::bad_gateway, 11};
    if (behaviour == "hang") release.get_future().wait();
    return Json(
        {{"errcode", 0}, {"errmsg", "ok"}, {"invaliduser", ""}, {"msgid", "msg-" + std::to_string(sent_.size())}});
  }

  std::mutex mu_;
  std::deque<std::string> script_;
  std::vector<json> sent_;
  std::atomic<int> gettokens_{0};
  std::atomic<int> gettoken_error_{0};
  test::TestHttpServer server_;
};

store::OutboxMessage Message(const std::string& to, const std::string& text) {
  store::OutboxMessage m;
  m.id = 1;
  m.channel = "wecom";
  m.recipient = to;
  m.payload = json(dialogs::OutboundMessage{"text", text, std::nullopt, std::nullopt, json::object()}).dump();
  return m;
}

class WeComSenderTest : public ::testing::Test {
 protected:
  ApiSettings Settings(std::chrono::milliseconds timeout = 5s) {
    std::string base = fake_.Base();
    if (!base.empty() && base.back() == '/') base.pop_back();
    return {base, "ww1436e0e65a779aee", "s3cret", "1000002", timeout};
  }
  store::AttemptRecord Send(Sender& s, const store::OutboxMessage& m) { return test::RunAwaitable(ioc_, s.Send(m)); }

  net::io_context ioc_;
  FakeWeCom fake_;
  CurlHttpClient http_{2};
  test::FakeClock clock_;
};

TEST_F(WeComSenderTest, SendsTextWithOneCachedToken) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  const auto first = Send(sender, Message("zhangsan", "您的需求已发布"));
  EXPECT_EQ(first.outcome, store::AttemptOutcome::kSent) << first.error;
  EXPECT_EQ(first.provider_ref, "msg-1");
  EXPECT_EQ(Send(sender, Message("lisi", "第二条")).outcome, store::AttemptOutcome::kSent);
  EXPECT_EQ(fake_.Gettokens(), 1);
  const auto sent = fake_.Sent();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0]["touser"], "zhangsan");
  EXPECT_EQ(sent[0]["msgtype"], "text");
  EXPECT_EQ(sent[0]["agentid"], 1000002);
  EXPECT_EQ(sent[0]["text"]["content"], "您的需求已发布");
  EXPECT_EQ(sent[0]["_token"], "T1");
}

TEST_F(WeComSenderTest, ExpiredTokenIsRefreshedOnceAndTheSendRetried) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  fake_.Script({"expired", "ok"});
  const auto r = Send(sender, Message("zhangsan", "hi"));
  EXPECT_EQ(r.outcome, store::AttemptOutcome::kSent) << r.error;
  EXPECT_EQ(fake_.Gettokens(), 2);
  const auto sent = fake_.Sent();
  EXPECT_EQ(sent[1]["_token"], "T2");
  fake_.Script({"expired", "expired"});
  EXPECT_EQ(Send(sender, Message("zhangsan", "hi")).outcome, store::AttemptOutcome::kRetryable);
  EXPECT_EQ(fake_.Gettokens(), 3);  // no loop: one refresh per rejection, two attempts at most
}

TEST_F(WeComSenderTest, TokenIsRefreshedBeforeItExpires) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  EXPECT_EQ(Send(sender, Message("u", "a")).outcome, store::AttemptOutcome::kSent);
  clock_.Advance(7200s - 4min);
  EXPECT_EQ(Send(sender, Message("u", "b")).outcome, store::AttemptOutcome::kSent);
  EXPECT_EQ(fake_.Gettokens(), 2);
}

TEST_F(WeComSenderTest, ErrorsAreClassified) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  fake_.Script({"rate", "invaliduser", "refused", "5xx"});
  EXPECT_EQ(Send(sender, Message("u", "x")).outcome, store::AttemptOutcome::kRetryable);
  const auto invalid = Send(sender, Message("nobody", "x"));
  EXPECT_EQ(invalid.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(invalid.error.find("invaliduser"), std::string::npos);
  EXPECT_EQ(Send(sender, Message("u", "x")).outcome, store::AttemptOutcome::kFailed);
  EXPECT_EQ(Send(sender, Message("u", "x")).outcome, store::AttemptOutcome::kRetryable);
  EXPECT_EQ(Send(sender,
                 [] {
                   auto m = Message("u", "x");
                   m.payload = "not json";
                   return m;
                 }())
                .outcome,
            store::AttemptOutcome::kFailed);
}

TEST_F(WeComSenderTest, LongTextGoesOutInPartsThatWeComDeduplicatesOnRetry) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "需求";  // 6000 bytes
  fake_.Script({"ok", "5xx"});
  EXPECT_EQ(Send(sender, Message("u", text)).outcome, store::AttemptOutcome::kRetryable);
  EXPECT_EQ(Send(sender, Message("u", text)).outcome, store::AttemptOutcome::kSent);
  const auto sent = fake_.Sent();
  ASSERT_EQ(sent.size(), 5U);  // 1 + 1 failed, then all 3 again
  std::string joined;
  for (std::size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(sent[i]["enable_duplicate_check"], 1);
    joined += sent[i]["text"]["content"].get<std::string>();
  }
  EXPECT_EQ(joined, text);
  EXPECT_EQ(sent[0]["text"], sent[2]["text"]);  // byte-identical, so WeCom drops the repeat
}

TEST_F(WeComSenderTest, InvalidMembersAreReportedById) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  fake_.Script({"invaliduser", "invaliduser", "all_invalid"});
  const auto some = Send(sender, Message("zhangsan|Nobody", "x"));
  EXPECT_EQ(some.outcome, store::AttemptOutcome::kSent);  // zhangsan got it
  EXPECT_EQ(some.error, "invaliduser Nobody");
  const auto none = Send(sender, Message("nobody", "x"));
  EXPECT_EQ(none.outcome, store::AttemptOutcome::kFailed);
  EXPECT_EQ(none.error, "invaliduser nobody");
  EXPECT_EQ(Send(sender, Message("ghost", "x")).outcome, store::AttemptOutcome::kFailed);
}

TEST_F(WeComSenderTest, CardsAndCardUpdatesUseTheirEndpoints) {
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  auto card = Message("u", "请审核");
  card.payload =
      json(dialogs::OutboundMessage{"template",
                                    "请审核",
                                    "新需求",
                                    std::nullopt,
                                    {{"task_id", "n42"}, {"buttons", {{{"text", "受理"}, {"key", "accept:42"}}}}}})
          .dump();
  EXPECT_EQ(Send(sender, card).outcome, store::AttemptOutcome::kSent);
  auto update = Message("u", "");
  update.payload =
      json(dialogs::OutboundMessage{
               "card_update", "", std::nullopt, std::nullopt, {{"response_code", "RC9"}, {"replace_name", "已受理"}}})
          .dump();
  EXPECT_EQ(Send(sender, update).outcome, store::AttemptOutcome::kSent);
  auto invalid = Message("u", "");
  invalid.payload = json(dialogs::OutboundMessage{"template", "", std::nullopt, std::nullopt, json::object()}).dump();
  const auto refused = Send(sender, invalid);
  EXPECT_EQ(refused.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(refused.error.find("task_id"), std::string::npos);
  const auto sent = fake_.Sent();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0]["_path"], "/cgi-bin/message/send");
  EXPECT_EQ(sent[0]["template_card"]["task_id"], "n42");
  EXPECT_EQ(sent[1]["_path"], "/cgi-bin/message/update_template_card");
  EXPECT_EQ(sent[1]["response_code"], "RC9");
}

TEST_F(WeComSenderTest, BadSecretIsReportedWithoutARefreshLoop) {
  fake_.FailGettoken(40001);
  ApiClient api(http_, clock_, Settings());
  Sender sender(api);
  const auto r = Send(sender, Message("u", "x"));
  EXPECT_EQ(r.outcome, store::AttemptOutcome::kRetryable);
  EXPECT_NE(r.error.find("40001"), std::string::npos);
  EXPECT_EQ(fake_.Gettokens(), 1);
  EXPECT_TRUE(fake_.Sent().empty());
}

TEST_F(WeComSenderTest, ATimeoutAfterTheRequestLeftIsUnknownAndNeverLookedUpAsLost) {
  ApiClient api(http_, clock_, Settings(300ms));
  Sender sender(api);
  fake_.Script({"hang"});
  const auto r = Send(sender, Message("u", "x"));
  fake_.release.set_value();
  EXPECT_EQ(r.outcome, store::AttemptOutcome::kUnknown);
  EXPECT_EQ(test::RunAwaitable(ioc_, sender.Lookup(Message("u", "x"))).recovery, store::Recovery::kStillUnknown);
}

TEST_F(WeComSenderTest, ConcurrentCallersShareOneTokenFetch) {
  AccessTokenCache cache(http_, clock_, Settings());
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          const auto t = co_await cache.Get();
          EXPECT_TRUE(t);
          EXPECT_EQ(*t, "T1");
          ++done;
        },
        net::detached);
  }
  ioc_.run();
  EXPECT_EQ(done, 5);
  EXPECT_EQ(fake_.Gettokens(), 1);
  cache.Invalidate("T0");  // a stale token does not drop the current one
  EXPECT_EQ(*test::RunAwaitable(ioc_, cache.Get()), "T1");
  cache.Invalidate("T1");
  EXPECT_EQ(*test::RunAwaitable(ioc_, cache.Get()), "T2");
}

}  // namespace
}  // namespace duijie::channels::wecom
