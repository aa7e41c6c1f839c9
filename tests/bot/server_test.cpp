// The HTTP server in-process on two workers, each run by its own thread as in the gateway: many
// keep-alive clients at once against a handler that suspends, and a graceful shutdown while
// requests are in flight. Built under ThreadSanitizer too (tsan_test), where a data race between
// the workers, the acceptor's strand and the watchdogs fails it.
#include "bot/http/server.hpp"

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "support/fakes.hpp"
#include "support/http_client.hpp"

namespace duijie::bot {
namespace {

class ServerConcurrency : public ::testing::Test {
 protected:
  ServerConcurrency() {
    router_.Add(http::verb::post, "/echo", [this](const HttpRequest& req) -> net::awaitable<HttpResponse> {
      // Suspend once, so requests of many connections interleave on each worker.
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
      handled_.fetch_add(1);
      HttpResponse res{http::status::ok, req.version()};
      res.body() = "echo:" + req.body();
      res.prepare_payload();
      co_return res;
    });
  }

  void Start() {
    ServerOptions options;
    options.access_log = true;  // the log line is part of the shared state on the request path
    server_ =
        std::make_unique<Server>(std::vector<net::io_context*>{&first_, &second_}, options, router_, metrics_, log_);
    const auto endpoint = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(endpoint) << endpoint.error().message;
    port_ = endpoint->port();
    server_->Start();
    threads_.emplace_back([this] { first_.run(); });
    threads_.emplace_back([this] { second_.run(); });
  }

  void Stop() {
    net::co_spawn(first_, server_->Shutdown(), net::use_future).get();
    guards_.clear();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  ~ServerConcurrency() override {
    if (!threads_.empty()) {
      first_.stop();
      second_.stop();
      for (auto& t : threads_) t.join();
    }
  }

  test::FakeClock clock_;
  Logger log_{clock_, LogLevel::kOff};
  Metrics metrics_;
  Router router_{log_};
  net::io_context first_;
  net::io_context second_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_{net::make_work_guard(first_),
                                                                                net::make_work_guard(second_)};
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
  std::atomic<int> handled_{0};
  std::uint16_t port_ = 0;
};

TEST_F(ServerConcurrency, ManyKeepAliveClientsOnTwoWorkersEachGetTheirOwnAnswers) {
  Start();
  constexpr int kClients = 8;
  constexpr int kRequests = 40;
  std::vector<std::future<int>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [this, c] {
      test::HttpConnection conn(port_);
      int right = 0;
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = std::to_string(c) + "-" + std::to_string(i);
        const auto res = conn.Request(http::verb::post, "/echo", body);
        if (res.result() == http::status::ok && res.body() == "echo:" + body) ++right;
      }
      return right;
    }));
  }
  for (auto& f : clients) EXPECT_EQ(f.get(), kRequests);
  EXPECT_EQ(handled_.load(), kClients * kRequests);
  // Unknown paths answer 404 from either worker while the others run.
  EXPECT_EQ(test::HttpConnection(port_).Request(http::verb::get, "/nowhere").result(), http::status::not_found);
  Stop();
}

TEST_F(ServerConcurrency, ShutdownWithClientsConnectedFinishesAndClosesThem) {
  Start();
  std::vector<std::unique_ptr<test::HttpConnection>> idle;
  for (int i = 0; i < 6; ++i) {
    idle.push_back(std::make_unique<test::HttpConnection>(port_));
    EXPECT_EQ(idle.back()->Request(http::verb::post, "/echo", "x").result(), http::status::ok);
  }
  Stop();
  for (auto& conn : idle) EXPECT_TRUE(conn->ClosedByServer());
  EXPECT_EQ(handled_.load(), 6);
}

}  // namespace
}  // namespace duijie::bot
