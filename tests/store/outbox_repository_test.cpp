#include "store/outbox_repository.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::store {
namespace {

constexpr std::int64_t kNow = test::kFakeEpochMillis;

NewOutboxMessage Msg(const std::string& key, const std::string& channel = "sms", int priority = 0) {
  NewOutboxMessage m;
  m.idempotency_key = key;
  m.channel = channel;
  m.recipient = "+8613812345678";
  m.kind = "reminder";
  m.payload = R"({"kind":"text","text":"截止日期提醒"})";
  m.priority = priority;
  m.max_attempts = 3;
  return m;
}

class OutboxRepositoryTest : public ::testing::Test {
 protected:
  test::TestDb db_;
  Connection& c_ = db_.Conn();
};

TEST_F(OutboxRepositoryTest, SameKeyTwiceIsOneMessage) {
  const auto a = OutboxRepository::Enqueue(c_, Msg("k1"), kNow);
  const auto b = OutboxRepository::Enqueue(c_, Msg("k1"), kNow + 5);
  EXPECT_FALSE(a.duplicate);
  EXPECT_TRUE(b.duplicate);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox"), 1);
}

TEST_F(OutboxRepositoryTest, ClaimTakesDueMessagesOfOneChannelByPriorityAndShowsTheAttemptInFlight) {
  OutboxRepository::Enqueue(c_, Msg("low"), kNow);
  OutboxRepository::Enqueue(c_, Msg("high", "sms", 5), kNow);
  OutboxRepository::Enqueue(c_, Msg("other-channel", "email"), kNow);
  auto later = Msg("later");
  later.not_before_ms = kNow + 60'000;
  OutboxRepository::Enqueue(c_, later, kNow);

  const auto claimed = OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 10);
  ASSERT_EQ(claimed.size(), 2U);
  EXPECT_EQ(claimed[0].idempotency_key, "high");
  EXPECT_EQ(claimed[1].idempotency_key, "low");
  EXPECT_EQ(claimed[0].status, "sending");
  EXPECT_EQ(claimed[0].attempts, 1);
  EXPECT_EQ(claimed[0].claimed_by, "me");
  // In flight until its outcome is recorded; its row is written then, once.
  const auto attempts = OutboxRepository::Attempts(c_, claimed[0].id);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].outcome, "in_flight");
  EXPECT_EQ(attempts[0].started_at, kNow);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox_attempts"), 0);
  ASSERT_TRUE(OutboxRepository::Finish(c_, claimed[0].id, 1, {AttemptOutcome::kSent, "tencent", "tencent:1", ""},
                                       kNow + 5, kNow + 5));
  const auto done = OutboxRepository::Attempts(c_, claimed[0].id);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].outcome, "sent");
  EXPECT_EQ(done[0].sender, "tencent");
  EXPECT_EQ(done[0].started_at, kNow);
  EXPECT_EQ(done[0].finished_at, kNow + 5);
  // A finish that does not match the claim (another attempt) writes nothing.
  EXPECT_FALSE(
      OutboxRepository::Finish(c_, claimed[1].id, 2, {AttemptOutcome::kSent, "tencent", "", ""}, kNow + 5, kNow + 5));
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox_attempts"), 1);
  // Claimed messages are not claimed again.
  EXPECT_TRUE(OutboxRepository::ClaimDue(c_, "other", "sms", kNow, 10).empty());
  EXPECT_TRUE(OutboxRepository::HasDue(c_, "email", kNow));
  EXPECT_FALSE(OutboxRepository::HasDue(c_, "sms", kNow));
  EXPECT_EQ(OutboxRepository::NextDue(c_), kNow);
}

TEST_F(OutboxRepositoryTest, DeferHandsAClaimBackWithoutCountingAnAttempt) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  const auto claimed = OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 10);
  ASSERT_EQ(claimed.size(), 1U);
  OutboxRepository::Defer(c_, id, claimed[0].attempts, kNow + 30'000);
  const auto m = OutboxRepository::Find(c_, id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, "pending");
  EXPECT_EQ(m->attempts, 0);
  EXPECT_EQ(m->next_attempt_at, kNow + 30'000);
  EXPECT_FALSE(m->claimed_by);
  EXPECT_TRUE(OutboxRepository::Attempts(c_, id).empty());
  EXPECT_TRUE(OutboxRepository::ClaimDue(c_, "me", "sms", kNow + 29'999, 10).empty());
  EXPECT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", kNow + 30'000, 10).at(0).attempts, 1);
}

TEST_F(OutboxRepositoryTest, RetryableFailuresRetryThenDeadLetter) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const auto now = kNow + attempt * 1000;
    const auto claimed = OutboxRepository::ClaimDue(c_, "me", "sms", now, 1);
    ASSERT_EQ(claimed.size(), 1U) << attempt;
    ASSERT_TRUE(OutboxRepository::Finish(c_, id, attempt, {AttemptOutcome::kRetryable, "fake", "", "HTTP 503"}, now,
                                         now + 500));
    const auto m = OutboxRepository::Find(c_, id);
    if (attempt < 3) {
      EXPECT_EQ(m->status, "pending");
      EXPECT_EQ(m->next_attempt_at, now + 500);
      EXPECT_EQ(m->last_error, "HTTP 503");
      EXPECT_TRUE(OutboxRepository::ClaimDue(c_, "me", "sms", now + 499, 1).empty());  // not due yet
    } else {
      EXPECT_EQ(m->status, "dead");
    }
  }
  const auto attempts = OutboxRepository::Attempts(c_, id);
  ASSERT_EQ(attempts.size(), 3U);
  for (const auto& a : attempts) {
    EXPECT_EQ(a.outcome, "retryable");
    EXPECT_EQ(a.sender, "fake");
    EXPECT_TRUE(a.finished_at.has_value());
  }
}

TEST_F(OutboxRepositoryTest, AReferenceLeftByARetryableAttemptReachesTheNextClaim) {
  // How a sender resumes a message in parts (the group robot's "parts:N").
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 1).size(), 1U);
  ASSERT_TRUE(
      OutboxRepository::Finish(c_, id, 1, {AttemptOutcome::kRetryable, "fake", "parts:1", "busy"}, kNow, kNow + 10));
  const auto again = OutboxRepository::ClaimDue(c_, "me", "sms", kNow + 10, 1);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].provider_ref, "parts:1");
  ASSERT_TRUE(OutboxRepository::Finish(c_, id, 2, {AttemptOutcome::kSent, "fake", "parts:3", ""}, kNow + 10, kNow));
  EXPECT_EQ(OutboxRepository::Find(c_, id)->provider_ref, "parts:3");
}

TEST_F(OutboxRepositoryTest, FinishOfAStaleAttemptChangesNothing) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 1).size(), 1U);
  EXPECT_FALSE(OutboxRepository::Finish(c_, id, 2, {AttemptOutcome::kSent, "fake", "ref", ""}, kNow, kNow));
  EXPECT_TRUE(OutboxRepository::Finish(c_, id, 1, {AttemptOutcome::kSent, "fake", "ref-1", ""}, kNow, kNow));
  EXPECT_FALSE(OutboxRepository::Finish(c_, id, 1, {AttemptOutcome::kFailed, "fake", "", "late"}, kNow, kNow));
  const auto m = OutboxRepository::Find(c_, id);
  EXPECT_EQ(m->status, "sent");
  EXPECT_EQ(m->provider_ref, "ref-1");
}

TEST_F(OutboxRepositoryTest, InDoubtFindsOtherInstancesClaimsAndDueUnknowns) {
  const auto a = OutboxRepository::Enqueue(c_, Msg("a"), kNow).id;
  const auto b = OutboxRepository::Enqueue(c_, Msg("b"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "dead-instance", "sms", kNow, 2).size(), 2U);
  ASSERT_TRUE(OutboxRepository::Finish(c_, b, 1, {AttemptOutcome::kUnknown, "fake", "", "timeout"}, kNow, kNow + 100));
  EXPECT_TRUE(OutboxRepository::InDoubt(c_, "dead-instance", kNow - 1000, kNow, 10).empty());
  const auto doubts = OutboxRepository::InDoubt(c_, "new-instance", kNow - 1000, kNow + 100, 10);
  ASSERT_EQ(doubts.size(), 2U);

  ASSERT_TRUE(OutboxRepository::Resolve(c_, a, 1, Recovery::kWasSent, "p-1", "sent", kNow, kNow));
  ASSERT_TRUE(OutboxRepository::Resolve(c_, b, 1, Recovery::kWasLost, "", "sent", kNow, kNow));
  EXPECT_EQ(OutboxRepository::Find(c_, a)->status, "sent");
  EXPECT_EQ(OutboxRepository::Find(c_, a)->provider_ref, "p-1");
  EXPECT_EQ(OutboxRepository::Find(c_, b)->status, "pending");
  const auto attempts = OutboxRepository::Attempts(c_, a);
  EXPECT_EQ(attempts.back().outcome, "recovered_sent");
  EXPECT_EQ(OutboxRepository::Attempts(c_, b).back().outcome, "recovered_lost");
}

TEST_F(OutboxRepositoryTest, ASendLostInACrashIsRecordedFromItsClaimAndAnOldInFlightRowIsCompleted) {
  const auto a = OutboxRepository::Enqueue(c_, Msg("a"), kNow).id;
  const auto b = OutboxRepository::Enqueue(c_, Msg("b"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "dead-instance", "sms", kNow, 2).size(), 2U);
  // b was claimed by a version that wrote the attempt's row at the claim.
  c_.Db().exec("INSERT INTO outbox_attempts (outbox_id, attempt, outcome, started_at) VALUES (" + std::to_string(b) +
               ", 1, 'in_flight', " + std::to_string(kNow) + ")");
  // Unknown past the give-up time, measured from the claim: dead, never resent; one row each.
  const auto give_up = kNow + 1;
  ASSERT_TRUE(OutboxRepository::Resolve(c_, a, 1, Recovery::kStillUnknown, "", "sent", kNow + 10, kNow + 20, give_up));
  ASSERT_TRUE(OutboxRepository::Resolve(c_, b, 1, Recovery::kStillUnknown, "", "sent", kNow + 10, kNow + 20, give_up));
  for (const auto id : {a, b}) {
    EXPECT_EQ(OutboxRepository::Find(c_, id)->status, "dead");
    const auto attempts = OutboxRepository::Attempts(c_, id);
    ASSERT_EQ(attempts.size(), 1U) << id;
    EXPECT_EQ(attempts[0].outcome, "unknown");
    EXPECT_EQ(attempts[0].started_at, kNow);
    EXPECT_EQ(attempts[0].finished_at, kNow + 10);
  }
}

TEST_F(OutboxRepositoryTest, RecentAndCounts) {
  for (int i = 0; i < 5; ++i) OutboxRepository::Enqueue(c_, Msg("k" + std::to_string(i)), kNow);
  OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 2);
  const auto counts = OutboxRepository::CountByStatus(c_);
  EXPECT_EQ(counts.at("pending"), 3);
  EXPECT_EQ(counts.at("sending"), 2);
  const auto recent = OutboxRepository::Recent(c_, 3, std::nullopt);
  ASSERT_EQ(recent.size(), 3U);
  EXPECT_EQ(recent[0].idempotency_key, "k4");
  EXPECT_EQ(OutboxRepository::Recent(c_, 10, std::string("sending")).size(), 2U);
}

// Claims message `id` and records `record` for its first attempt.
void SendOnce(Connection& c, std::int64_t id, const AttemptRecord& record, std::int64_t now) {
  ASSERT_EQ(OutboxRepository::ClaimDue(c, "me", "sms", now, 10).size(), 1U);
  ASSERT_TRUE(OutboxRepository::Finish(c, id, 1, record, now, now + 1000));
}

TEST_F(OutboxRepositoryTest, ReceiptsMoveSentMessagesForwardOnly) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  SendOnce(c_, id, {AttemptOutcome::kSent, "tencent", "tencent:5000:1", ""}, kNow);
  using D = OutboxRepository::Delivery;
  const std::string number = "+8613812345678";
  EXPECT_EQ(
      OutboxRepository::RecordDelivery(c_, {"tencent:5000:1", std::nullopt, "sms", number, true, "DELIVRD"}, kNow + 1),
      D::kRecorded);
  EXPECT_EQ(OutboxRepository::Find(c_, id)->status, "delivered");
  // A later failure receipt for the same message (out of order) changes nothing.
  EXPECT_EQ(
      OutboxRepository::RecordDelivery(c_, {"tencent:5000:1", std::nullopt, "sms", number, false, "UNDELIV"}, kNow + 2),
      D::kIgnored);
  EXPECT_EQ(OutboxRepository::Find(c_, id)->status, "delivered");
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, {"tencent:nope", std::nullopt, "sms", number, true, ""}, kNow + 3),
            D::kIgnored);
}

TEST_F(OutboxRepositoryTest, AReceiptIsFoundByItsNumberAndReferenceWithinTheWindow) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  SendOnce(c_, id, {AttemptOutcome::kSent, "tencent", "tencent:5000:1", ""}, kNow);
  using D = OutboxRepository::Delivery;
  const OutboxRepository::Receipt receipt{"tencent:5000:1", std::nullopt, "sms", "+8613812345678", false, "UNDELIV"};
  // The reference under another number, or without one (and without our id), is nobody's.
  auto other = receipt;
  other.recipient = "+8613900000000";
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, other, kNow + 1), D::kIgnored);
  other.recipient.clear();
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, other, kNow + 1), D::kIgnored);
  // Later than the window after the send: ignored; at its edge: taken.
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, receipt, kNow + OutboxRepository::kReceiptWindowMs + 1), D::kIgnored);
  EXPECT_EQ(OutboxRepository::Find(c_, id)->status, "sent");
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, receipt, kNow + OutboxRepository::kReceiptWindowMs), D::kRecorded);
  EXPECT_EQ(OutboxRepository::Find(c_, id)->status, "failed");
}

TEST_F(OutboxRepositoryTest, AnUnmatchedReceiptWaitsWhileASendToItsNumberAwaitsItsReference) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 1).size(), 1U);
  using D = OutboxRepository::Delivery;
  const OutboxRepository::Receipt receipt{"tencent:5000:9", std::nullopt, "sms", "+8613812345678", true, "DELIVRD"};
  // The provider may have taken the message still 'sending' (or 'unknown' after a timeout).
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, receipt, kNow + 1), D::kInFlight);
  ASSERT_TRUE(OutboxRepository::Finish(c_, id, 1, {AttemptOutcome::kUnknown, "tencent", "", "timeout"}, kNow + 2,
                                       kNow + 60'000));
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, receipt, kNow + 3), D::kInFlight);
  // Another number, or another channel, has nothing waiting: the receipt is nobody's.
  auto other = receipt;
  other.recipient = "+8613900000000";
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, other, kNow + 4), D::kIgnored);
  other = receipt;
  other.channel = "email";
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, other, kNow + 4), D::kIgnored);
  // Once the send is known (its reference recorded), an unmatched receipt is ignored.
  ASSERT_TRUE(OutboxRepository::Resolve(c_, id, 1, Recovery::kWasSent, "tencent:5000:1", "sent", kNow + 5, kNow + 5));
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, receipt, kNow + 6), D::kIgnored);
  EXPECT_EQ(OutboxRepository::Find(c_, id)->status, "sent");
}

TEST_F(OutboxRepositoryTest, AFailedDeliveryQueuesTheFallback) {
  auto m = Msg("k");
  m.fallback = {{"email", "a@example.cn"}};
  const auto id = OutboxRepository::Enqueue(c_, m, kNow).id;
  SendOnce(c_, id, {AttemptOutcome::kSent, "aliyun", "aliyun:77^0", ""}, kNow);
  EXPECT_EQ(OutboxRepository::RecordDelivery(
                c_, {"aliyun:77^0", std::nullopt, "sms", "+8613812345678", false, "MK:0001 用户关机"}, kNow + 1),
            OutboxRepository::Delivery::kRecorded);
  const auto failed = OutboxRepository::Find(c_, id);
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->last_error, "not delivered: MK:0001 用户关机");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE channel = 'email' AND status = 'pending'"), 1);
}

TEST_F(OutboxRepositoryTest, AReceiptProvesAnUnknownSendAndOneOvertakingTheSendIsInFlight) {
  const auto id = OutboxRepository::Enqueue(c_, Msg("k"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", kNow, 1).size(), 1U);
  using D = OutboxRepository::Delivery;
  // Still 'sending': the receipt must come again later.
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, {"", id, "sms", "", true, "DELIVERED"}, kNow + 1), D::kInFlight);
  ASSERT_TRUE(OutboxRepository::Finish(c_, id, 1, {AttemptOutcome::kUnknown, "aliyun", "", "timeout"}, kNow + 2,
                                       kNow + 60'000));
  // Found by our reference (Alibaba's out_id): the lost attempt reached the provider.
  EXPECT_EQ(OutboxRepository::RecordDelivery(c_, {"aliyun:9^0", id, "sms", "", true, "DELIVERED"}, kNow + 3),
            D::kRecorded);
  const auto m = OutboxRepository::Find(c_, id);
  EXPECT_EQ(m->status, "delivered");
  EXPECT_EQ(m->provider_ref, "aliyun:9^0");
  EXPECT_EQ(OutboxRepository::Attempts(c_, id).back().outcome, "recovered_sent");
}

TEST_F(OutboxRepositoryTest, SentTimesCountReachedMessagesAndClaimsInIdOrder) {
  const auto a = OutboxRepository::Enqueue(c_, Msg("a"), kNow).id;
  SendOnce(c_, a, {AttemptOutcome::kSent, "tencent", "tencent:1", ""}, kNow);
  auto code = Msg("code");
  code.kind = "verification_code";
  OutboxRepository::Enqueue(c_, code, kNow);
  const auto b = OutboxRepository::Enqueue(c_, Msg("b"), kNow).id;
  const auto c = OutboxRepository::Enqueue(c_, Msg("c"), kNow).id;
  ASSERT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", kNow + 10, 10).size(), 3U);  // code, b, c together
  const std::vector<std::string> codes = {"verification_code"};
  const std::string to = "+8613812345678";
  // For b: a (sent) counts; c (claimed with it, later id) does not; the code is another kind.
  EXPECT_EQ(OutboxRepository::SentTimes(c_, "sms", to, kNow - 1, kNow + 10, b, codes, false),
            std::vector<std::int64_t>{kNow});
  // For c: a and b (claimed with it, earlier id), oldest first.
  EXPECT_EQ(OutboxRepository::SentTimes(c_, "sms", to, kNow - 1, kNow + 10, c, codes, false),
            (std::vector<std::int64_t>{kNow, kNow + 10}));
  EXPECT_EQ(OutboxRepository::SentTimes(c_, "sms", to, kNow - 1, kNow + 10, c, codes, true).size(), 1U);
  // The window is (since, now]: a send exactly at `since` has left it.
  EXPECT_EQ(OutboxRepository::SentTimes(c_, "sms", to, kNow, kNow + 10, c, codes, false),
            std::vector<std::int64_t>{kNow + 10});
}

}  // namespace
}  // namespace duijie::store
