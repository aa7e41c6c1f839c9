#include "bot/http/router.hpp"

#include <gtest/gtest.h>

#include "bot/http/responses.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"

namespace duijie::bot {
namespace {

HttpRequest Req(http::verb method, const std::string& target) { return HttpRequest{method, target, 11}; }

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(log_) {
    router_.Add(http::verb::get, "/hello", [](const HttpRequest& req) -> net::awaitable<HttpResponse> {
      co_return JsonResponse(http::status::ok, {{"target", std::string(req.target())}});
    });
    router_.Add(http::verb::post, "/hello", [](const HttpRequest&) -> net::awaitable<HttpResponse> {
      co_return JsonResponse(http::status::created, nlohmann::json::object());
    });
    router_.Add(http::verb::get, "/boom", [](const HttpRequest&) -> net::awaitable<HttpResponse> {
      throw std::runtime_error("secret detail");
      co_return HttpResponse{};
    });
  }

  Router::Routed Dispatch(HttpRequest req) { return test::RunAwaitable(ioc_, router_.Dispatch(req)); }

  test::FakeClock clock_;
  Logger log_{clock_, LogLevel::kOff};
  Router router_;
  net::io_context ioc_;
};

TEST_F(RouterTest, MatchesMethodAndPathIgnoringQuery) {
  const auto r = Dispatch(Req(http::verb::get, "/hello?x=1"));
  EXPECT_EQ(r.response.result(), http::status::ok);
  EXPECT_EQ(r.route, 0U);
  EXPECT_EQ(nlohmann::json::parse(r.response.body())["target"], "/hello?x=1");
  EXPECT_EQ(Dispatch(Req(http::verb::post, "/hello")).route, 1U);
}

TEST_F(RouterTest, UnknownPathIs404InTheApiErrorShape) {
  const auto r = Dispatch(Req(http::verb::get, "/nope"));
  EXPECT_EQ(r.response.result(), http::status::not_found);
  EXPECT_EQ(r.route, router_.Size());
  const auto body = nlohmann::json::parse(r.response.body());
  EXPECT_EQ(body["error"]["code"], "not_found");
  EXPECT_TRUE(body["error"]["message"].is_string());
}

TEST_F(RouterTest, KnownPathOtherMethodIs405WithAllow) {
  const auto r = Dispatch(Req(http::verb::delete_, "/hello"));
  EXPECT_EQ(r.response.result(), http::status::method_not_allowed);
  EXPECT_EQ(r.response[http::field::allow], "GET, POST");
}

TEST_F(RouterTest, HeadIsServedByGetWithoutBody) {
  const auto r = Dispatch(Req(http::verb::head, "/hello"));
  EXPECT_EQ(r.response.result(), http::status::ok);
  EXPECT_TRUE(r.response.body().empty());
  EXPECT_GT(std::stoi(std::string(r.response[http::field::content_length])), 0);
}

TEST_F(RouterTest, HandlerExceptionIs500WithoutItsDetail) {
  const auto r = Dispatch(Req(http::verb::get, "/boom"));
  EXPECT_EQ(r.response.result(), http::status::internal_server_error);
  EXPECT_EQ(r.response.body().find("secret detail"), std::string::npos);
}

TEST_F(RouterTest, ASourceBeyondItsRateOnALimitedRouteGets429AndOthersDoNot) {
  int handled = 0;
  router_.Add(http::verb::post, "/sms/tencent/{secret}/reply",
              [&handled](const HttpRequest&) -> net::awaitable<HttpResponse> {
                ++handled;
                co_return JsonResponse(http::status::ok, nlohmann::json::object());
              });
  SourceLimit limit({"/sms/"}, 2, 3, clock_);  // 3 at once, then 2 a second
  router_.LimitSources(&limit);
  const auto from = [this](const std::string& peer, const std::string& target) {
    auto req = Req(http::verb::post, target);
    req.set(kPeerAddressField, peer);
    return Dispatch(req);
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(from("10.0.0.1", "/sms/tencent/s/reply").response.result(), http::status::ok);
  const auto refused = from("10.0.0.1", "/sms/tencent/s/reply");
  EXPECT_EQ(refused.response.result(), http::status::too_many_requests);
  EXPECT_EQ(refused.response[http::field::retry_after], "1");
  EXPECT_EQ(nlohmann::json::parse(refused.response.body())["error"]["code"], "rate_limited");
  EXPECT_EQ(refused.route, router_.Size() - 1) << "counted under its route in the metrics";
  EXPECT_EQ(handled, 3) << "a refused request never reaches the handler";
  // Another source, and a route outside the limit, are not affected.
  EXPECT_EQ(from("10.0.0.2", "/sms/tencent/s/reply").response.result(), http::status::ok);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(from("10.0.0.1", "/hello").response.result(), http::status::created);
  // Half a second later one more is due (2 a second).
  clock_.Advance(std::chrono::milliseconds(500));
  EXPECT_EQ(from("10.0.0.1", "/sms/tencent/s/reply").response.result(), http::status::ok);
  EXPECT_EQ(from("10.0.0.1", "/sms/tencent/s/reply").response.result(), http::status::too_many_requests);
}

TEST(SourceLimit, RemembersAtMostItsSourcesForgettingRefilledOnesFirst) {
  test::FakeClock clock;
  SourceLimit limit({"/sms/"}, 1, 1, clock, 2);
  EXPECT_EQ(limit.Take("a"), Clock::Duration::zero());
  EXPECT_EQ(limit.Take("b"), Clock::Duration::zero());
  EXPECT_GT(limit.Take("a"), Clock::Duration::zero());
  clock.Advance(std::chrono::seconds(2));  // a and b have refilled: forgetting them changes nothing
  EXPECT_EQ(limit.Take("c"), Clock::Duration::zero());
  EXPECT_EQ(limit.Take("a"), Clock::Duration::zero());
  EXPECT_FALSE(limit.Covers("/wecom/callback"));
  EXPECT_TRUE(limit.Covers("/sms/aliyun/x/up"));
  EXPECT_FALSE(SourceLimit({"/sms/"}, 0, 1, clock).Covers("/sms/aliyun/x/up")) << "rate 0: no limit";
}

TEST(TargetPath, StripsQueryAndFragment) {
  EXPECT_EQ(TargetPath("/a/b?x=1"), "/a/b");
  EXPECT_EQ(TargetPath("/a#f"), "/a");
  EXPECT_EQ(TargetPath("/a"), "/a");
}

TEST(RouterPaths, PlaceholdersMatchOneNonEmptySegment) {
  EXPECT_TRUE(PathMatches("/api/v1/needs/{id}", "/api/v1/needs/7"));
  EXPECT_TRUE(PathMatches("/api/v1/needs/{id}/reviews", "/api/v1/needs/7/reviews"));
  EXPECT_FALSE(PathMatches("/api/v1/needs/{id}", "/api/v1/needs/"));
  EXPECT_FALSE(PathMatches("/api/v1/needs/{id}", "/api/v1/needs/7/reviews"));
  EXPECT_FALSE(PathMatches("/api/v1/needs/{id}/reviews", "/api/v1/needs/7"));
  EXPECT_FALSE(PathMatches("/api/v1/needs/{id}", "/api/v1/people/7"));
  EXPECT_EQ(PathSegments("/api/v1/needs/7?x=1"), (std::vector<std::string_view>{"api", "v1", "needs", "7"}));
}

}  // namespace
}  // namespace duijie::bot
