#include "bot/dispatcher.hpp"

#include <deque>
#include <set>

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "channels/sandbox_sender.hpp"
#include "store/sandbox_repository.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::bot {
namespace {

using namespace std::chrono_literals;
using store::AttemptOutcome;

/// A provider whose answers are scripted; it records what it was asked.
class ScriptedSender final : public channels::Sender {
 public:
  [[nodiscard]] std::string_view Name() const override { return "scripted"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override {
    sent.push_back(msg.idempotency_key);
    AttemptOutcome outcome = AttemptOutcome::kSent;
    if (!script.empty()) {
      outcome = script.front();
      script.pop_front();
    }
    co_return store::AttemptRecord{outcome, "scripted",
                                   outcome == AttemptOutcome::kSent ? "p-" + msg.idempotency_key : "",
                                   outcome == AttemptOutcome::kSent ? "" : "scripted failure"};
  }
  net::awaitable<channels::LookupResult> Lookup(const store::OutboxMessage& msg) override {
    looked_up.push_back(msg.idempotency_key);
    co_return channels::LookupResult{lookup_answer, lookup_answer == store::Recovery::kWasSent ? "p-found" : "",
                                     "sent"};
  }

  std::deque<AttemptOutcome> script;
  std::vector<std::string> sent;
  std::vector<std::string> looked_up;
  store::Recovery lookup_answer = store::Recovery::kWasLost;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : writer_(db_.Path(), {}) {
    options_.instance = "test-instance";
    options_.backoff = {1000ms, 60'000ms};
    options_.unknown_recheck = 30'000ms;
    options_.poll_interval = 1000ms;
  }

  std::unique_ptr<Dispatcher> Make(channels::Sender& sender, const std::string& instance = "test-instance") {
    options_.instance = instance;
    return std::make_unique<Dispatcher>(ioc_.get_executor(), writer_,
                                        std::map<std::string, channels::Sender*>{{"sms", &sender}}, clock_, random_,
                                        &metrics_, log_, options_);
  }

  void Enqueue(const std::string& key, int max_attempts = 3, const std::string& to = "+8613812345678") {
    store::NewOutboxMessage m{key,          "sms",        to, "reminder",   R"({"kind":"text","text":"提醒"})",
                              std::nullopt, std::nullopt, 0,  max_attempts, 0,
                              {},           std::nullopt};
    const auto now = ToUnixMillis(clock_.Now());
    writer_.RunSync([&](store::Connection& c) { return store::OutboxRepository::Enqueue(c, m, now); });
  }

  void RunRound(Dispatcher& d) {
    (void)test::RunOn(ioc_, d.Strand(), d.Round());
    test::RunOn(ioc_, d.Strand(), d.Drain());
  }

  std::string Status(const std::string& key) {
    return db_.Conn().Db().execAndGet("SELECT status FROM outbox WHERE idempotency_key = '" + key + "'").getString();
  }

  // Declared before the writer so the writer stops (and drops every completion) before the
  // context those completions are posted to is destroyed.
  net::io_context ioc_;
  test::TestDb db_;
  store::Writer writer_;
  test::FakeClock clock_;
  test::FakeRandom random_{{0.0}};  // jitter at its lowest: delays are exactly half the ceiling
  Metrics metrics_;
  Logger log_{clock_, LogLevel::kOff};
  DispatcherOptions options_;
};

TEST_F(DispatcherTest, SendsDueMessagesAndRecordsEachAttempt) {
  ScriptedSender sender;
  auto d = Make(sender);
  Enqueue("a");
  Enqueue("b");
  RunRound(*d);
  EXPECT_EQ(sender.sent, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Status("a"), "sent");
  EXPECT_EQ(Status("b"), "sent");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox_attempts WHERE outcome = 'sent' AND sender = 'scripted'"), 2);
  const auto text = metrics_.Render({});
  EXPECT_NE(text.find(R"(duijie_dispatcher_attempts_total{channel="sms",outcome="sent"} 2)"), std::string::npos);
  RunRound(*d);  // nothing due: nothing sent again
  EXPECT_EQ(sender.sent.size(), 2U);
}

TEST_F(DispatcherTest, RetryableFailureBacksOffExponentiallyThenDeadLetters) {
  ScriptedSender sender;
  sender.script = {AttemptOutcome::kRetryable, AttemptOutcome::kRetryable, AttemptOutcome::kRetryable};
  auto d = Make(sender);
  Enqueue("a", 3);
  RunRound(*d);
  EXPECT_EQ(Status("a"), "pending");
  clock_.Advance(499ms);  // first retry after base/2 = 500 ms with the lowest jitter
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 1U);
  clock_.Advance(1ms);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 2U);
  clock_.Advance(999ms);  // second retry after 1000 ms
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 2U);
  clock_.Advance(1ms);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 3U);
  EXPECT_EQ(Status("a"), "dead");
  clock_.Advance(1h);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 3U);
}

TEST_F(DispatcherTest, FinalFailureIsNotRetried) {
  ScriptedSender sender;
  sender.script = {AttemptOutcome::kFailed};
  auto d = Make(sender);
  Enqueue("a");
  RunRound(*d);
  clock_.Advance(1h);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 1U);
  EXPECT_EQ(Status("a"), "failed");
}

TEST_F(DispatcherTest, UnknownOutcomeIsLookedUpNotResent) {
  ScriptedSender sender;
  sender.script = {AttemptOutcome::kUnknown};
  sender.lookup_answer = store::Recovery::kWasSent;
  auto d = Make(sender);
  Enqueue("a");
  RunRound(*d);
  EXPECT_EQ(Status("a"), "unknown");
  clock_.Advance(30s);
  RunRound(*d);
  EXPECT_EQ(sender.looked_up, std::vector<std::string>{"a"});
  EXPECT_EQ(sender.sent.size(), 1U);
  EXPECT_EQ(Status("a"), "sent");
}

TEST_F(DispatcherTest, UnknownOutcomeFoundLostIsSentAgain) {
  ScriptedSender sender;
  sender.script = {AttemptOutcome::kUnknown, AttemptOutcome::kSent};
  sender.lookup_answer = store::Recovery::kWasLost;
  auto d = Make(sender);
  Enqueue("a");
  RunRound(*d);
  clock_.Advance(30s);
  RunRound(*d);  // recovery finds it lost and makes it due now
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 2U);
  EXPECT_EQ(Status("a"), "sent");
}

TEST_F(DispatcherTest, AnOutcomeUnknownForTooLongIsDeadLetteredNotResent) {
  ScriptedSender sender;
  sender.script = {AttemptOutcome::kUnknown};
  sender.lookup_answer = store::Recovery::kStillUnknown;
  options_.unknown_give_up = 24h;
  auto d = Make(sender);
  Enqueue("a");
  RunRound(*d);
  clock_.Advance(30s);
  RunRound(*d);
  EXPECT_EQ(Status("a"), "unknown");
  clock_.Advance(24h);
  RunRound(*d);
  EXPECT_EQ(Status("a"), "dead");
  EXPECT_EQ(sender.sent.size(), 1U);
  clock_.Advance(24h);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 1U);
}

TEST_F(DispatcherTest, HonoursTheChannelRateLimit) {
  ScriptedSender sender;
  options_.rates["sms"] = {2.0, 2.0};  // 2 a second, burst 2
  auto d = Make(sender);
  for (int i = 0; i < 5; ++i) Enqueue("m" + std::to_string(i));
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 2U);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 2U);
  clock_.Advance(500ms);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 3U);
  clock_.Advance(1s);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 5U);
}

TEST_F(DispatcherTest, APerRecipientLimitHoldsMessagesBackWithoutSpendingAttempts) {
  ScriptedSender sender;
  options_.recipient_limits["sms"] = {{2, 60s}};
  auto d = Make(sender);
  for (int i = 0; i < 3; ++i) Enqueue("a" + std::to_string(i), 1, "+8613800000001");
  Enqueue("b", 1, "+8613800000002");
  const auto next = test::RunOn(ioc_, d->Strand(), d->Round());
  test::RunOn(ioc_, d->Strand(), d->Drain());
  EXPECT_EQ(sender.sent, (std::vector<std::string>{"a0", "a1", "b"}));
  EXPECT_EQ(Status("a2"), "pending");
  EXPECT_EQ(db_.Scalar("SELECT attempts FROM outbox WHERE idempotency_key = 'a2'"), 0);
  EXPECT_LE(next, clock_.Now() + 60s);
  clock_.Advance(59s);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 3U);
  clock_.Advance(1s);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 4U);
  EXPECT_EQ(Status("a2"), "sent");  // max_attempts 1: the deferral did not use it up
  EXPECT_NE(metrics_.Render({}).find(R"(duijie_dispatcher_attempts_total{channel="sms",outcome="deferred"} 1)"),
            std::string::npos);
}

TEST_F(DispatcherTest, OnACoalescingChannelOneSendPerRecipientCarriesWhatWaits) {
  ScriptedSender sender;
  std::vector<std::string> carriers;
  bool carry = true;
  // Carries every waiting message to the same number (the SMS hook does this for pushes).
  options_.coalesce["sms"] = [&](store::Connection& c, store::OutboxMessage& m, std::int64_t now_ms) {
    carriers.push_back(m.idempotency_key);
    if (!carry) return;
    std::vector<std::int64_t> ids;
    for (const auto& w : store::OutboxRepository::Waiting(c, m.channel, m.recipient, m.kind, m.id, 10))
      ids.push_back(w.id);
    store::OutboxRepository::Rewrite(c, m.id, R"({"kind":"text","text":"together"})");
    store::OutboxRepository::Merge(c, ids, m.id, now_ms);
  };
  auto d = Make(sender);
  Enqueue("a");
  Enqueue("b");
  Enqueue("c", 3, "+8613900000000");
  RunRound(*d);
  // b was claimed with a; it went back unsent and a carried it.
  EXPECT_EQ(sender.sent, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(carriers, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(Status("a"), "sent");
  EXPECT_EQ(Status("b"), "cancelled");
  EXPECT_EQ(db_.Scalar("SELECT attempts FROM outbox WHERE idempotency_key = 'b'"), 0);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox_attempts o JOIN outbox m ON m.id = o.outbox_id "
                       "WHERE m.idempotency_key = 'b'"),
            0);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE merged_into = (SELECT id FROM outbox WHERE "
                       "idempotency_key = 'a') AND idempotency_key = 'b'"),
            1);
  // When nothing is carried, the message handed back goes in the next round, not later.
  carry = false;
  Enqueue("d");
  Enqueue("e");
  RunRound(*d);
  EXPECT_EQ(Status("d"), "sent");
  EXPECT_EQ(Status("e"), "pending");
  RunRound(*d);
  EXPECT_EQ(Status("e"), "sent");
  EXPECT_EQ(sender.sent, (std::vector<std::string>{"a", "c", "d", "e"}));
}

TEST_F(DispatcherTest, AFinalFailureFallsBackToTheNextAddressInOrder) {
  ScriptedSender sender;
  sender.script = {AttemptOutcome::kFailed, AttemptOutcome::kFailed, AttemptOutcome::kSent};
  auto d = Make(sender);
  store::NewOutboxMessage m{"push-1",
                            "sms",
                            "+8613800000001",
                            "match_push",
                            R"({"kind":"text","text":"新匹配"})",
                            std::nullopt,
                            std::nullopt,
                            0,
                            3,
                            0,
                            {},
                            std::nullopt};
  m.fallback = {{"sms", "+8613800000002"}, {"sms", "+8613800000003"}};
  writer_.RunSync(
      [&](store::Connection& c) { return store::OutboxRepository::Enqueue(c, m, ToUnixMillis(clock_.Now())); });
  for (int i = 0; i < 3; ++i) RunRound(*d);
  EXPECT_EQ(sender.sent, (std::vector<std::string>{"push-1", "push-1>sms", "push-1>sms>sms"}));
  EXPECT_EQ(Status("push-1"), "failed");
  EXPECT_EQ(Status("push-1>sms"), "failed");
  EXPECT_EQ(Status("push-1>sms>sms"), "sent");
  EXPECT_EQ(
      db_.Conn().Db().execAndGet("SELECT recipient FROM outbox WHERE idempotency_key = 'push-1>sms>sms'").getString(),
      "+8613800000003");
  RunRound(*d);  // nothing left to fall back to
  EXPECT_EQ(sender.sent.size(), 3U);
}

TEST_F(DispatcherTest, ConcurrencyBoundsOneRound) {
  ScriptedSender sender;
  options_.concurrency = 3;
  auto d = Make(sender);
  for (int i = 0; i < 5; ++i) Enqueue("m" + std::to_string(i));
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 3U);
  RunRound(*d);
  EXPECT_EQ(sender.sent.size(), 5U);
}

// The running loop under load: the outcomes waiting when the next claim is made are recorded in
// the claim's own transaction, so a cycle costs one commit (one fsync), not one per outcome.
TEST_F(DispatcherTest, UnderLoadTheLoopRecordsOutcomesWithTheNextClaim) {
  ScriptedSender sender;
  options_.concurrency = 8;
  options_.batch = 8;
  auto d = Make(sender);
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) Enqueue("m" + std::to_string(i));
  const auto jobs_before = writer_.GetStats().jobs;
  d->Start();
  test::RunAwaitable(ioc_, [&]() -> net::awaitable<void> {
    while (sender.sent.size() < static_cast<std::size_t>(kMessages)) co_await net::post(ioc_, net::use_awaitable);
    co_await d->Stop();  // records what is still waiting
  }());
  const std::set<std::string> distinct(sender.sent.begin(), sender.sent.end());
  EXPECT_EQ(sender.sent.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  auto& db = db_.Conn().Db();
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 1").getInt(), kMessages);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM outbox_attempts WHERE outcome = 'sent'").getInt(), kMessages);
  // Five claims of eight, each carrying the previous eight outcomes, and the last eight recorded
  // on stop; one outcome per job would be 45 or more.
  EXPECT_LE(writer_.GetStats().jobs - jobs_before, 12U);
}

// Free concurrency goes to channels that have something due, not to idle ones.
TEST_F(DispatcherTest, IdleChannelsDoNotHoldConcurrency) {
  ScriptedSender sms;
  ScriptedSender email;
  options_.concurrency = 2;
  options_.batch = 2;
  Dispatcher d(ioc_.get_executor(), writer_, {{"email", &email}, {"sms", &sms}}, clock_, random_, &metrics_, log_,
               options_);
  Enqueue("s1");
  Enqueue("s2");
  RunRound(d);
  RunRound(d);  // whichever channel the rotation starts with, sms is served within two rounds
  EXPECT_EQ(sms.sent.size(), 2U);
  EXPECT_TRUE(email.sent.empty());
}

// A crash between the provider accepting a message and the outcome being recorded: the next
// process must ask the sender, not send again.
TEST_F(DispatcherTest, AfterACrashClaimedMessagesAreExaminedNotBlindlyResent) {
  channels::SandboxSender sandbox(writer_, clock_);
  Enqueue("accepted");
  Enqueue("never-left");
  const auto now = ToUnixMillis(clock_.Now());
  auto claimed = writer_.RunSync(
      [&](store::Connection& c) { return store::OutboxRepository::ClaimDue(c, "crashed-instance", "sms", now, 10); });
  ASSERT_EQ(claimed.size(), 2U);
  (void)test::RunAwaitable(ioc_, sandbox.Send(claimed[0]));  // accepted, then the process died

  auto d = Make(sandbox, "new-instance");
  RunRound(*d);
  RunRound(*d);
  EXPECT_EQ(Status("accepted"), "sandbox");
  EXPECT_EQ(Status("never-left"), "sandbox");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM sandbox_messages WHERE idempotency_key = 'accepted'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM sandbox_messages WHERE idempotency_key = 'never-left'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox_attempts WHERE outcome = 'recovered_sent'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox_attempts WHERE outcome = 'recovered_lost'"), 1);
}

}  // namespace
}  // namespace duijie::bot
