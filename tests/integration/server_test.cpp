// Starts the real `duijie serve` on 127.0.0.1 port 0 and talks to it over TCP.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include <signal.h>

namespace duijie {
namespace {

using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<test::ChildProcess> Start(std::map<std::string, std::string> env = {}) {
    env.emplace("DUIJIE_HTTP_LISTEN", "127.0.0.1:0");
    env.emplace("DUIJIE_STORE_PATH", dir_.File("duijie.db"));
    auto child = std::make_unique<test::ChildProcess>(DUIJIE_BINARY, std::vector<std::string>{"serve"}, env,
                                                      dir_.Path().string());
    port_ = child->WaitForPort();
    return child;
  }

  long long Count(const std::string& table) {
    store::ConnectionOptions o;
    o.read_only = true;
    store::Connection c(dir_.File("duijie.db"), o);
    return c.Db().execAndGet("SELECT count(*) FROM " + table).getInt64();
  }

  static void Stop(test::ChildProcess& child) {
    child.Signal(SIGTERM);
    const auto code = child.Wait(20s);
    if (code != 0) {
      child.WaitForEof(5s);
      std::string log;
      for (const auto& l : child.Lines()) log += l + "\n";
      ADD_FAILURE() << "exit code " << code.value_or(-1) << "; the server's log:\n" << log;
    }
  }

  test::TempDir dir_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerTest, FinishedMessagesOlderThanTheRetentionLoseBodiesAndAddressesAtStart) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string old_ms = std::to_string(now_ms - 31LL * 86'400'000);
  const std::string recent_ms = std::to_string(now_ms - 29LL * 86'400'000);
  {
    store::Connection c(dir_.File("duijie.db"), {});
    ASSERT_TRUE(store::Migrate(c));
    for (const auto& [key, at] : {std::pair{"old", old_ms}, std::pair{"recent", recent_ms}}) {
      c.Exec(std::string("INSERT INTO inbox (channel, provider_key, sender, payload, status, received_at) VALUES "
                         "('sms', '") +
             key + "', '+8613812345678', '{\"text\":\"1\"}', 'processed', " + at + ")");
      c.Exec(std::string("INSERT INTO outbox (idempotency_key, channel, recipient, kind, payload, status, "
                         "next_attempt_at, created_at, updated_at) VALUES ('") +
             key + "', 'sms', '+8613812345678', 'match_push', '{\"text\":\"x\"}', 'delivered', " + at + ", " + at +
             ", " + at + ")");
    }
  }
  auto child = Start({{"DUIJIE_STORE_MESSAGE_RETENTION_DAYS", "30"}});
  const auto line = child->WaitForLine("old messages scrubbed", 20s);
  EXPECT_NE(line.find(R"("inbox":1)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("outbox":1)"), std::string::npos) << line;
  Stop(*child);
  EXPECT_EQ(Count("inbox WHERE provider_key = 'old' AND payload = '{}' AND sender IS NULL"), 1);
  EXPECT_EQ(Count("inbox WHERE provider_key = 'recent' AND payload != '{}' AND sender IS NOT NULL"), 1);
  EXPECT_EQ(Count("outbox WHERE idempotency_key = 'old' AND payload = '{}' AND recipient = '+86138****5678'"), 1);
  EXPECT_EQ(Count("outbox WHERE idempotency_key = 'recent' AND recipient = '+8613812345678'"), 1);
}

TEST_F(ServerTest, HealthReadyAndMetricsOverKeepAlive) {
  auto child = Start();
  test::HttpConnection conn(port_);
  const auto health = conn.Request(http::verb::get, "/healthz");
  EXPECT_EQ(health.result(), http::status::ok);
  EXPECT_EQ(nlohmann::json::parse(health.body())["status"], "ok");
  const auto ready = conn.Request(http::verb::get, "/readyz");
  EXPECT_EQ(ready.result(), http::status::ok);
  EXPECT_EQ(nlohmann::json::parse(ready.body())["status"], "ready");
  const auto metrics = conn.Request(http::verb::get, "/metrics");
  EXPECT_EQ(metrics.result(), http::status::ok);
  EXPECT_NE(metrics[http::field::content_type].find("text/plain"), std::string::npos);
  const std::string& text = metrics.body();
  EXPECT_NE(text.find(R"(duijie_http_requests_total{method="GET",route="/healthz",status="200"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("duijie_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(text.find("duijie_store_write_batches_total"), std::string::npos);
  EXPECT_NE(text.find("duijie_http_connections 1"), std::string::npos);
  EXPECT_NE(text.find("duijie_conversation_states_refused_total 0\n"), std::string::npos) << text;
  const auto missing = conn.Request(http::verb::get, "/missing");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(nlohmann::json::parse(missing.body())["error"]["code"], "not_found");
  Stop(*child);
}

TEST_F(ServerTest, OneMaskedJsonAccessLogLinePerRequest) {
  auto child = Start();
  (void)test::Get(port_, "/healthz");
  (void)test::Get(port_, "/people/13812345678/zhang.san@example.com");
  const auto line = child->WaitForLine("\"msg\":\"request\"", 10s, 2);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_TRUE(j.contains("ms"));
  EXPECT_TRUE(j.contains("ts"));
  for (const auto& l : child->Lines()) {
    EXPECT_EQ(l.find("13812345678"), std::string::npos) << l;
    EXPECT_EQ(l.find("zhang.san@"), std::string::npos) << l;
  }
  EXPECT_EQ(child->CountLines("\"msg\":\"request\""), 2U);
  Stop(*child);
}

TEST_F(ServerTest, SigtermLetsTheInFlightRequestFinishClosesIdleOnesAndExitsZero) {
  auto child = Start({{"DUIJIE_LOG_LEVEL", "debug"}});
  test::HttpConnection idle(port_);
  ASSERT_EQ(idle.Request(http::verb::get, "/healthz").result(), http::status::ok);

  // A slow upload: the header and half the body are there when the signal arrives.
  test::HttpConnection slow(port_);
  slow.SendRaw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n12345");
  child->WaitForLine("\"msg\":\"request started\"", 10s, 2);
  child->Signal(SIGTERM);
  child->WaitForLine("\"msg\":\"stopping\"", 10s);

  EXPECT_TRUE(idle.ClosedByServer());
  EXPECT_FALSE(child->Wait(0ms).has_value());  // still finishing the slow request
  slow.SendRaw("67890");
  const auto res = slow.ReadResponse();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), http::status::ok);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_EQ(child->Wait(20s), 0);
  child->WaitForLine("\"msg\":\"stopped\"", 5s);
  // Nothing listens any more.
  EXPECT_ANY_THROW(test::HttpConnection(port_, 1s));
}

TEST_F(ServerTest, OversizedBodyIs413AndStoresNothing) {
  auto child = Start({{"DUIJIE_HTTP_MAX_BODY_BYTES", "1024"}});
  test::HttpConnection conn(port_);
  conn.SendRaw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n");
  const auto res = conn.ReadResponse();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), http::status::payload_too_large);
  EXPECT_EQ(nlohmann::json::parse(res->body())["error"]["code"], "payload_too_large");
  EXPECT_TRUE(conn.ClosedByServer());
  Stop(*child);
  for (const char* table : {"inbox", "outbox", "sandbox_messages", "audit_log"}) EXPECT_EQ(Count(table), 0) << table;
}

TEST_F(ServerTest, SlowClientGets408AfterTheReadDeadline) {
  auto child = Start({{"DUIJIE_HTTP_READ_TIMEOUT_MS", "300"}});
  test::HttpConnection conn(port_);
  conn.SendRaw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // and never the blank line
  const auto res = conn.ReadResponse();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), http::status::request_timeout);
  EXPECT_EQ(nlohmann::json::parse(res->body())["error"]["code"], "request_timeout");
  EXPECT_TRUE(conn.ClosedByServer());
  // The server is still fine for everyone else.
  EXPECT_EQ(test::Get(port_, "/healthz").result(), http::status::ok);
  Stop(*child);
  EXPECT_EQ(Count("inbox"), 0);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  auto child = Start({{"DUIJIE_HTTP_IDLE_TIMEOUT_MS", "200"}});
  test::HttpConnection conn(port_);
  ASSERT_EQ(conn.Request(http::verb::get, "/healthz").result(), http::status::ok);
  EXPECT_TRUE(conn.ClosedByServer());
  Stop(*child);
}

TEST_F(ServerTest, MalformedAndOversizedHeadersGetClearErrors) {
  auto child = Start({{"DUIJIE_HTTP_MAX_HEADER_BYTES", "1024"}});
  {
    test::HttpConnection conn(port_);
    conn.SendRaw("THIS IS NOT HTTP\r\n\r\n");
    const auto res = conn.ReadResponse();
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), http::status::bad_request);
    EXPECT_EQ(nlohmann::json::parse(res->body())["error"]["code"], "bad_request");
  }
  {
    test::HttpConnection conn(port_);
    conn.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
    const auto res = conn.ReadResponse();
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), http::status::request_header_fields_too_large);
  }
  EXPECT_EQ(test::Get(port_, "/healthz").result(), http::status::ok);
  Stop(*child);
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitGet503AndAreCounted) {
  auto child = Start({{"DUIJIE_HTTP_MAX_CONNECTIONS", "2"}});
  auto first = std::make_unique<test::HttpConnection>(port_);
  test::HttpConnection second(port_);
  // Answered, so both are accepted and held open (keep-alive).
  ASSERT_EQ(first->Request(http::verb::get, "/healthz").result(), http::status::ok);
  ASSERT_EQ(second.Request(http::verb::get, "/healthz").result(), http::status::ok);
  {
    test::HttpConnection third(port_);
    const auto res = third.ReadResponse();  // the answer comes before any request
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), http::status::service_unavailable);
    EXPECT_EQ(res->at(http::field::retry_after), "1");
    EXPECT_EQ(nlohmann::json::parse(res->body())["error"]["code"], "too_many_connections");
    EXPECT_TRUE(third.ClosedByServer());
  }
  first.reset();  // room again, once the server has seen the close
  std::string metrics;
  // A poll made before the server has seen the close is itself refused, and counted.
  int refused_polls = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (metrics.empty() && std::chrono::steady_clock::now() < deadline) {
    const auto res = test::Get(port_, "/metrics");
    if (res.result() == http::status::ok) {
      metrics = res.body();
    } else {
      refused_polls += res.result() == http::status::service_unavailable ? 1 : 0;
      std::this_thread::sleep_for(10ms);  // polling for a condition, not timing anything
    }
  }
  const std::string counted = "duijie_http_connections_refused_total " + std::to_string(1 + refused_polls) + "\n";
  EXPECT_NE(metrics.find(counted), std::string::npos) << metrics;
  Stop(*child);
}

}  // namespace
}  // namespace duijie
