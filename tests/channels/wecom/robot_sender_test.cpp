// The group-robot sender against a loopback fake of the webhook endpoint.
#include "channels/wecom/robot_sender.hpp"

#include <deque>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "channels/curl_http_client.hpp"
#include "dialogs/message.hpp"
#include "support/run.hpp"
#include "support/test_http_server.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

class FakeWebhook {
 public:
  FakeWebhook()
      : server_([this](const HttpRequest& req) {
          std::lock_guard lock(mu_);
          const std::string target(req.target());
          json answer{{"errcode", 0}, {"errmsg", "ok"}};
          if (target.find("key=good-key") == std::string::npos) {
            answer = {{"errcode", 93000}, {"errmsg", "invalid webhook url"}};
          } else if (!script_.empty()) {
            answer = script_.front();
            script_.pop_front();
          }
          if (answer["errcode"] == 0) posts_.push_back(json::parse(req.body()));
          HttpResponse res{http::status::ok, 11};
          res.body() = answer.dump();
          return res;
        }) {}
  std::string Base() const {
    auto url = server_.Url("");
    if (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  void Script(std::deque<json> s) {
    std::lock_guard lock(mu_);
    script_ = std::move(s);
  }
  std::vector<json> Posts() {
    std::lock_guard lock(mu_);
    return posts_;
  }

 private:
  std::mutex mu_;
  std::deque<json> script_;
  std::vector<json> posts_;
  test::TestHttpServer server_;
};

store::OutboxMessage Message(const std::string& robot, const dialogs::OutboundMessage& out) {
  store::OutboxMessage m;
  m.id = 1;
  m.channel = "wecom_robot";
  m.recipient = robot;
  m.payload = json(out).dump();
  return m;
}

class RobotSenderTest : public ::testing::Test {
 protected:
  store::AttemptRecord Send(const store::OutboxMessage& m) { return test::RunAwaitable(ioc_, sender_.Send(m)); }

  net::io_context ioc_;
  FakeWebhook fake_;
  CurlHttpClient http_{2};
  RobotSender sender_{http_, RobotSettings{fake_.Base(), {{"staff", "good-key"}, {"stale", "removed-key"}}}};
};

TEST_F(RobotSenderTest, PostsTextWithMentionsToTheNamedRobot) {
  const auto r = Send(Message("staff", {"text", "申报截止提醒", std::nullopt, std::nullopt, {{"mentions", {"@all"}}}}));
  EXPECT_EQ(r.outcome, store::AttemptOutcome::kSent) << r.error;
  const auto posts = fake_.Posts();
  ASSERT_EQ(posts.size(), 1U);
  EXPECT_EQ(posts[0],
            json({{"msgtype", "text"}, {"text", {{"content", "申报截止提醒"}, {"mentioned_list", {"@all"}}}}}));
}

TEST_F(RobotSenderTest, UnknownRobotBadKeyAndBadPayloadAreFinal) {
  const dialogs::OutboundMessage text{"text", "x", std::nullopt, std::nullopt, json::object()};
  const auto unknown = Send(Message("nobody", text));
  EXPECT_EQ(unknown.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(unknown.error.find("nobody"), std::string::npos);
  const auto stale = Send(Message("stale", text));
  EXPECT_EQ(stale.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(stale.error.find("93000"), std::string::npos);
  EXPECT_EQ(stale.error.find("removed-key"), std::string::npos);  // the key never reaches the outbox
  EXPECT_EQ(Send(Message("staff", {"card_update", "", std::nullopt, std::nullopt, json::object()})).outcome,
            store::AttemptOutcome::kFailed);
  EXPECT_TRUE(fake_.Posts().empty());
}

TEST_F(RobotSenderTest, RateLimitAnswersAreRetryable) {
  fake_.Script({{{"errcode", 45009}, {"errmsg", "api freq out of limit"}},
                {{"errcode", 130101}, {"errmsg", "send too fast, exceed 20 times per minute"}}});
  const dialogs::OutboundMessage text{"text", "x", std::nullopt, std::nullopt, json::object()};
  EXPECT_EQ(Send(Message("staff", text)).outcome, store::AttemptOutcome::kRetryable);
  EXPECT_EQ(Send(Message("staff", text)).outcome, store::AttemptOutcome::kRetryable);
  EXPECT_EQ(Send(Message("staff", text)).outcome, store::AttemptOutcome::kSent);
}

TEST_F(RobotSenderTest, LongMarkdownGoesOutInParts) {
  const auto r =
      Send(Message("staff", {"markdown", std::string(9000, 'm'), std::nullopt, std::nullopt, json::object()}));
  EXPECT_EQ(r.outcome, store::AttemptOutcome::kSent);
  const auto posts = fake_.Posts();
  ASSERT_EQ(posts.size(), 3U);
  for (const auto& p : posts) EXPECT_LE(p["markdown"]["content"].get<std::string>().size(), 4096U);
}

TEST_F(RobotSenderTest, ARetryAfterAFailedPartSendsOnlyThePartsNotYetSent) {
  // A robot has no duplicate check: the parts that went out are not sent again.
  fake_.Script({{{"errcode", 0}, {"errmsg", "ok"}}, {{"errcode", 45009}, {"errmsg", "api freq out of limit"}}});
  std::string text;
  for (char part : {'a', 'b', 'c'}) text += std::string(4000, part) + "\n";
  auto m = Message("staff", {"markdown", text, std::nullopt, std::nullopt, json::object()});
  const auto first = Send(m);
  EXPECT_EQ(first.outcome, store::AttemptOutcome::kRetryable);
  EXPECT_EQ(first.provider_ref, "parts:1");
  ASSERT_EQ(fake_.Posts().size(), 1U);
  m.provider_ref = first.provider_ref;  // as the outbox keeps it for the next attempt
  const auto second = Send(m);
  EXPECT_EQ(second.outcome, store::AttemptOutcome::kSent) << second.error;
  EXPECT_EQ(second.provider_ref, "parts:3");
  const auto posts = fake_.Posts();
  ASSERT_EQ(posts.size(), 3U);
  for (std::size_t i = 0; i < posts.size(); ++i) {
    const auto content = posts[i]["markdown"]["content"].get<std::string>();
    ASSERT_FALSE(content.empty());
    EXPECT_EQ(content.front(), "abc"[i]) << "part " << i << " went out once, in order";
  }
  // A reference that is not a count of parts (or a single part) starts from the beginning.
  m.provider_ref = "parts:x";
  EXPECT_EQ(Send(m).outcome, store::AttemptOutcome::kSent);
  EXPECT_EQ(fake_.Posts().size(), 6U);
}

}  // namespace
}  // namespace duijie::channels::wecom
