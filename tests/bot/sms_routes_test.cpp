// The SMS callback routes without sockets: how each is protected, and that a refused callback
// stores nothing.
#include <gtest/gtest.h>

#include "bot/handlers/sms_handler.hpp"
#include "store/outbox_repository.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::bot {
namespace {

constexpr const char* kSecret = "route-test-secret-0123";
constexpr const char* kReceipts = R"([{"sid":"s1","report_status":"SUCCESS","errmsg":"DELIVRD"}])";

class SmsRoutesTest : public ::testing::Test {
 protected:
  HttpResponse Post(const SmsDeps& deps, const std::string& target, const std::string& body,
                    const std::string& peer = "127.0.0.1") {
    Router router(log_);
    AddSmsRoutes(router, deps);
    HttpRequest req{http::verb::post, target, 11};
    req.set(http::field::content_type, "application/json");
    req.set(kPeerAddressField, peer);
    req.body() = body;
    req.prepare_payload();
    return test::RunAwaitable(ioc_, router.Dispatch(req)).response;
  }
  SmsDeps Deps(std::vector<std::string> allow = {}) {
    return SmsDeps{writer_, clock_, log_, kSecret, std::move(allow), "", "https://duijie.example.cn", {}, nullptr};
  }
  long long Inbox() { return db_.Scalar("SELECT count(*) FROM inbox"); }

  test::TestDb db_;
  store::Writer writer_{db_.Path(), {}};
  test::FakeClock clock_;
  Logger log_{clock_, LogLevel::kOff};
  net::io_context ioc_;
};

TEST_F(SmsRoutesTest, TheSecretPathAndTheAllowList) {
  const std::string status = std::string("/sms/tencent/") + kSecret + "/status";
  EXPECT_EQ(Post(Deps(), status, kReceipts).result(), http::status::ok);
  EXPECT_EQ(Inbox(), 1);
  // A wrong secret, or none configured, looks like an unknown path.
  EXPECT_EQ(Post(Deps(), "/sms/tencent/route-test-secret-0124/status", kReceipts).result(), http::status::not_found);
  auto unset = Deps();
  unset.callback_secret.clear();
  EXPECT_EQ(Post(unset, status, kReceipts).result(), http::status::not_found);
  // The allow-list is checked against the peer address the server set.
  const auto allowed = Deps({"10.0.0.7"});
  EXPECT_EQ(Post(allowed, status, kReceipts, "127.0.0.1").result(), http::status::forbidden);
  EXPECT_EQ(Post(allowed, status, R"([{"sid":"s2","report_status":"FAIL"}])", "10.0.0.7").result(), http::status::ok);
  EXPECT_EQ(Inbox(), 2);
  // Malformed bodies are 400 and store nothing.
  EXPECT_EQ(Post(Deps(), std::string("/sms/aliyun/") + kSecret + "/up", R"([{"content":"1"}])").result(),
            http::status::bad_request);
  EXPECT_EQ(Inbox(), 2);
}

// Found by the soak: the process died between Tencent's answer and our record of it; the receipt
// arrives before recovery learns the message's sid. It must come again later, not be dropped.
TEST_F(SmsRoutesTest, AReceiptForASendWhoseReferenceIsNotYetKnownIsTakenAgainLater) {
  const std::int64_t now = ToUnixMillis(clock_.Now());
  {
    auto& c = db_.Conn();
    store::NewOutboxMessage m;
    m.idempotency_key = "push-1";
    m.channel = "sms";
    m.recipient = "+8613911112222";
    m.kind = "match_push";
    m.payload = R"({"kind":"text","text":"x"})";
    m.max_attempts = 3;
    store::OutboxRepository::Enqueue(c, m, now - 2'000);
    ASSERT_EQ(store::OutboxRepository::ClaimDue(c, "dead-instance", "sms", now - 2'000, 1).size(), 1U);
  }
  const std::string status = std::string("/sms/tencent/") + kSecret + "/status";
  const std::string receipt =
      R"([{"sid":"5000:9","mobile":"13911112222","nationcode":"86","report_status":"SUCCESS","errmsg":"DELIVRD"}])";
  EXPECT_EQ(Post(Deps(), status, receipt).result(), http::status::service_unavailable);
  EXPECT_EQ(Inbox(), 0) << "nothing kept: the retry is taken whole";
  // A receipt for another number is no one's: acknowledged and ignored.
  const std::string other =
      R"([{"sid":"5000:8","mobile":"13700000000","nationcode":"86","report_status":"SUCCESS","errmsg":"DELIVRD"}])";
  EXPECT_EQ(Post(Deps(), status, other).result(), http::status::ok);
  // Recovery finds the send at Tencent (its sid), and the retried receipt lands.
  ASSERT_TRUE(store::OutboxRepository::Resolve(db_.Conn(), 1, 1, store::Recovery::kWasSent, "tencent:5000:9", "sent",
                                               now - 1'000, now - 1'000));
  EXPECT_EQ(Post(Deps(), status, receipt).result(), http::status::ok);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE status = 'delivered'"), 1);
}

TEST_F(SmsRoutesTest, TwilioWithoutATokenIs503AndAForgedSignature403) {
  EXPECT_EQ(Post(Deps(), "/sms/twilio/inbound", "From=%2B14155550100&Body=hi&MessageSid=SM1").result(),
            http::status::service_unavailable);
  auto deps = Deps();
  deps.twilio_auth_token = "token";
  EXPECT_EQ(Post(deps, "/sms/twilio/inbound", "From=%2B14155550100&Body=hi&MessageSid=SM1").result(),
            http::status::forbidden);
  EXPECT_EQ(Inbox(), 0);
}

}  // namespace
}  // namespace duijie::bot
