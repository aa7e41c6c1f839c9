#include "bot/metrics.hpp"

#include <gtest/gtest.h>

namespace duijie::bot {
namespace {

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(Metrics, RendersCountersHistogramsAndGauges) {
  Metrics m;
  m.SetRoutes({{"GET", "/healthz"}});
  m.ObserveRequest(0, 200, 0.0004);
  m.ObserveRequest(0, 200, 0.003);
  m.ObserveRequest(0, 503, 2.0);
  m.ObserveRequest(1, 404, 0.0001);  // unmatched
  m.CountAttempt("sms", "sandbox");
  m.ConnectionOpened();
  Metrics::Snapshot snap;
  snap.outbox_by_status = {{"pending", 3}, {"sandbox", 7}};
  snap.inbox_by_status = {{"processed", 2}};
  snap.writer_batches = 4;
  const auto text = m.Render(snap);
  EXPECT_TRUE(Has(text, R"(duijie_http_requests_total{method="GET",route="/healthz",status="200"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(duijie_http_requests_total{method="GET",route="/healthz",status="503"} 1)"));
  EXPECT_TRUE(Has(text, R"(duijie_http_requests_total{method="",route="unmatched",status="404"} 1)"));
  EXPECT_TRUE(Has(text, R"(duijie_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.0005"} 1)"));
  EXPECT_TRUE(Has(text, R"(duijie_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"} 2)"));
  EXPECT_TRUE(Has(text, R"(duijie_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="2.5"} 3)"));
  EXPECT_TRUE(Has(text, R"(duijie_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3)"));
  EXPECT_TRUE(Has(text, R"(duijie_http_request_duration_seconds_count{method="GET",route="/healthz"} 3)"));
  EXPECT_TRUE(Has(text, R"(duijie_outbox_messages{status="sandbox"} 7)"));
  EXPECT_TRUE(Has(text, R"(duijie_inbox_messages{status="processed"} 2)"));
  EXPECT_TRUE(Has(text, R"(duijie_dispatcher_attempts_total{channel="sms",outcome="sandbox"} 1)"));
  EXPECT_TRUE(Has(text, "duijie_http_connections 1"));
  EXPECT_TRUE(Has(text, "duijie_store_write_batches_total 4"));
  EXPECT_TRUE(Has(text, "# TYPE duijie_http_request_duration_seconds histogram"));
}

}  // namespace
}  // namespace duijie::bot
