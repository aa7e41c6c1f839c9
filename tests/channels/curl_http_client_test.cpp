#include "channels/curl_http_client.hpp"

#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include "support/run.hpp"
#include "support/test_http_server.hpp"

namespace duijie::channels {
namespace {

using namespace std::chrono_literals;

TEST(CurlHttpClient, SendsMethodHeadersAndBodyAndReturnsTheResponse) {
  test::TestHttpServer server([](const HttpRequest& req) {
    HttpResponse res{http::status::created, 11};
    res.set("X-Echo-Method", std::string(req.method_string()));
    res.set("X-Echo-Header", std::string(req["X-Test"]));
    res.body() = "got: " + req.body();
    return res;
  });
  ClientRequest req;
  req.method = "POST";
  req.url = server.Url("/cgi-bin/message/send?access_token=t");
  req.headers = {{"X-Test", "你好"}, {"Content-Type", "application/json"}};
  req.body = R"({"touser":"zhangsan"})";
  const auto res = CurlHttpClient::Perform(req);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, R"(got: {"touser":"zhangsan"})");
  bool method = false;
  for (const auto& [k, v] : res->headers) method = method || (k == "X-Echo-Method" && v == "POST");
  EXPECT_TRUE(method);
}

TEST(CurlHttpClient, ErrorStatusesAreResponsesNotErrors) {
  test::TestHttpServer server([](const HttpRequest&) { return HttpResponse{http::status::service_unavailable, 11}; });
  const auto res = CurlHttpClient::Perform({"GET", server.Url(), {}, "", 2s, 5s, 1 << 20});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
}

TEST(CurlHttpClient, TransportFailuresAreClassified) {
  std::uint16_t closed_port = 0;
  {
    net::io_context ioc;
    net::ip::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    closed_port = a.local_endpoint().port();
  }
  const auto refused = CurlHttpClient::Perform(
      {"GET", "http://127.0.0.1:" + std::to_string(closed_port) + "/", {}, "", 2s, 5s, 1 << 20});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);

  const auto bad = CurlHttpClient::Perform({"GET", "ht!tp://nowhere", {}, "", 2s, 5s, 1 << 20});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
}

TEST(CurlHttpClient, ADeadlineGivesTimeoutWhichMeansOutcomeUnknown) {
  std::promise<void> release;
  auto released = release.get_future().share();
  test::TestHttpServer server([released](const HttpRequest&) {
    released.wait();  // a provider that took the request and never answers in time
    return HttpResponse{http::status::ok, 11};
  });
  const auto res = CurlHttpClient::Perform({"POST", server.Url(), {}, "x", 1s, 200ms, 1 << 20});
  release.set_value();
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kTimeout);
}

TEST(CurlHttpClient, OversizedResponsesAreRefused) {
  test::TestHttpServer server([](const HttpRequest&) {
    HttpResponse res{http::status::ok, 11};
    res.body() = std::string(64 * 1024, 'x');
    return res;
  });
  const auto res = CurlHttpClient::Perform({"GET", server.Url(), {}, "", 2s, 5s, 1024});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kTooLarge);
}

TEST(CurlHttpClient, SendCompletesACoroutineWithTheResponse) {
  test::TestHttpServer server([](const HttpRequest&) {
    HttpResponse res{http::status::ok, 11};
    res.body() = "ok";
    return res;
  });
  net::io_context ioc;
  CurlHttpClient client(2);
  ClientRequest req;
  req.url = server.Url();
  const auto res = test::RunAwaitable(ioc, client.Send(req));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "ok");
}

// Many coroutines share the client's transfer thread; each gets its own answer, on its executor.
TEST(CurlHttpClient, ManyConcurrentSendsEachGetTheirOwnAnswer) {
  test::TestHttpServer server([](const HttpRequest& req) {
    HttpResponse res{http::status::ok, 11};
    res.body() = std::string(req.target());
    return res;
  });
  net::io_context ioc;
  CurlHttpClient client(4);
  constexpr int kSends = 40;
  std::vector<std::string> bodies(kSends);
  int done = 0;
  for (int i = 0; i < kSends; ++i) {
    net::co_spawn(
        ioc,
        [&, i]() -> net::awaitable<void> {
          ClientRequest req;
          req.url = server.Url("/n" + std::to_string(i));
          const auto res = co_await client.Send(req);
          if (res) bodies[static_cast<std::size_t>(i)] = res->body;
          ++done;
        },
        net::detached);
  }
  ioc.run();  // returns once every send has completed
  EXPECT_EQ(done, kSends);
  for (int i = 0; i < kSends; ++i) EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "/n" + std::to_string(i));
}

// A request waiting for one of the client's transfer slots has not left yet: its deadline starts
// when it does, so a queue never turns it into a timeout (an outcome unknown).
TEST(CurlHttpClient, ARequestWaitingForASlotDoesNotSpendItsDeadline) {
  test::TestHttpServer server([](const HttpRequest&) {
    std::this_thread::sleep_for(100ms);  // the provider's own latency
    HttpResponse res{http::status::ok, 11};
    res.body() = "ok";
    return res;
  });
  net::io_context ioc;
  CurlHttpClient client(1);
  int ok = 0;
  for (int i = 0; i < 3; ++i) {
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
          ClientRequest req;
          req.url = server.Url();
          req.timeout = 250ms;  // the third would pass it, counted from when it was sent
          const auto res = co_await client.Send(req);
          ok += res && res->status == 200 ? 1 : 0;
        },
        net::detached);
  }
  ioc.run();
  EXPECT_EQ(ok, 3);
}

}  // namespace
}  // namespace duijie::channels
