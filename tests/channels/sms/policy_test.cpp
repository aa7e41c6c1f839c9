// The rules of Chinese SMS on claimed outbox messages, at chosen Beijing times (no clock needed:
// the gate is a function of the claim time).
#include "channels/sms/policy.hpp"

#include <gtest/gtest.h>

#include "store/suppressions.hpp"
#include "support/test_db.hpp"

namespace duijie::channels::sms {
namespace {

using store::OutboxRepository;
using Kind = GateDecision::Kind;

constexpr std::int64_t kTenAm = 1'795'399'200'000;         // 2026-11-23 10:00 Beijing
constexpr std::int64_t kNineThirtyPm = 1'795'440'600'000;  // 2026-11-23 21:30 Beijing
constexpr std::int64_t kNextEightAm = 1'795'478'400'000;   // 2026-11-24 08:00 Beijing
constexpr std::int64_t kHour = 3'600'000;
constexpr const char* kNumber = "+8613711112222";

class SmsPolicyTest : public ::testing::Test {
 protected:
  std::int64_t Queue(const std::string& key, const std::string& kind, std::int64_t at) {
    store::NewOutboxMessage m;
    m.idempotency_key = key;
    m.channel = "sms";
    m.recipient = kNumber;
    m.kind = kind;
    m.payload = R"({"kind":"text","text":"x"})";
    return OutboxRepository::Enqueue(c_, m, at).id;
  }
  // Claims everything due and checks each claimed message in claim order, as the dispatcher does;
  // allowed ones are recorded as sent.
  std::vector<GateDecision> Claim(std::int64_t at) {
    std::vector<GateDecision> out;
    for (const auto& m : OutboxRepository::ClaimDue(c_, "me", "sms", at, 100)) {
      const auto d = CheckSms(c_, m, at, settings_);
      out.push_back(d);
      if (d.kind == Kind::kSend) {
        OutboxRepository::Finish(c_, m.id, m.attempts, {store::AttemptOutcome::kSent, "tencent", "", ""}, at, at);
      } else if (d.kind == Kind::kDefer) {
        OutboxRepository::Defer(c_, m.id, m.attempts, d.until_ms);
      }
    }
    return out;
  }

  test::TestDb db_;
  store::Connection& c_ = db_.Conn();
  PolicySettings settings_;
};

TEST(SmsPolicyClock, BeijingMinuteOfDay) {
  EXPECT_EQ(BeijingMinuteOfDay(kTenAm), 10 * 60);
  EXPECT_EQ(BeijingMinuteOfDay(kNineThirtyPm), 21 * 60 + 30);
  EXPECT_EQ(BeijingMinuteOfDay(0), 8 * 60);  // 1970-01-01 00:00 UTC
}

TEST_F(SmsPolicyTest, QuietHoursHoldPushesUntilEightButNotRepliesOrCodes) {
  Queue("push", "match_push", kNineThirtyPm);
  Queue("reply", "reply", kNineThirtyPm);
  Queue("code", "verification_code", kNineThirtyPm);
  const auto d = Claim(kNineThirtyPm);
  ASSERT_EQ(d.size(), 3U);
  EXPECT_EQ(d[0].kind, Kind::kDefer);
  EXPECT_EQ(d[0].until_ms, kNextEightAm);
  EXPECT_EQ(d[0].reason, "quiet hours");
  EXPECT_EQ(d[1].kind, Kind::kSend);
  EXPECT_EQ(d[2].kind, Kind::kSend);
  // At 08:00 the push goes.
  const auto morning = Claim(kNextEightAm);
  ASSERT_EQ(morning.size(), 1U);
  EXPECT_EQ(morning[0].kind, Kind::kSend);
}

TEST_F(SmsPolicyTest, NoQuietHoursWhenStartEqualsEnd) {
  settings_.quiet_start_minute = settings_.quiet_end_minute = 0;
  Queue("push", "reminder", kNineThirtyPm);
  EXPECT_EQ(Claim(kNineThirtyPm).at(0).kind, Kind::kSend);
}

TEST_F(SmsPolicyTest, OneAnHourAndThreeADayPerNumberEvenWhenClaimedTogether) {
  for (int i = 0; i < 3; ++i) Queue("p" + std::to_string(i), "match_push", kTenAm);
  auto d = Claim(kTenAm);
  ASSERT_EQ(d.size(), 3U);
  EXPECT_EQ(d[0].kind, Kind::kSend);
  EXPECT_EQ(d[1].kind, Kind::kDefer);
  EXPECT_EQ(d[1].until_ms, kTenAm + kHour);
  EXPECT_EQ(d[2].kind, Kind::kDefer);
  // An hour later one more goes, and so on; the fourth of the day waits for the rolling 24 h.
  d = Claim(kTenAm + kHour);
  EXPECT_EQ(std::count_if(d.begin(), d.end(), [](auto& x) { return x.kind == Kind::kSend; }), 1);
  d = Claim(kTenAm + 2 * kHour);
  EXPECT_EQ(std::count_if(d.begin(), d.end(), [](auto& x) { return x.kind == Kind::kSend; }), 1);
  Queue("p3", "reminder", kTenAm + 3 * kHour);
  d = Claim(kTenAm + 3 * kHour);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].kind, Kind::kDefer);
  EXPECT_EQ(d[0].until_ms, kTenAm + 24 * kHour);
  // Replies never wait for the caps.
  Queue("r", "reply", kTenAm + 3 * kHour);
  EXPECT_EQ(Claim(kTenAm + 3 * kHour).at(0).kind, Kind::kSend);
}

// A detail talk is people talking: never held by the caps nor counted against them, but not
// sent at night either.
TEST_F(SmsPolicyTest, TalksWaitForTheMorningButNeverForTheCaps) {
  Queue("push", "match_push", kTenAm);
  for (int i = 0; i < 4; ++i) Queue("relay" + std::to_string(i), "relay", kTenAm);
  auto d = Claim(kTenAm);
  ASSERT_EQ(d.size(), 5U);
  EXPECT_TRUE(std::all_of(d.begin(), d.end(), [](auto& x) { return x.kind == Kind::kSend; }));
  Queue("push2", "match_push", kTenAm + kHour);
  EXPECT_EQ(Claim(kTenAm + kHour).at(0).kind, Kind::kSend) << "the relayed messages did not count";
  Queue("late", "relay", kNineThirtyPm);
  d = Claim(kNineThirtyPm);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].kind, Kind::kDefer);
  EXPECT_EQ(d[0].until_ms, kNextEightAm);
}

TEST_F(SmsPolicyTest, VerificationCodesHaveTheirOwnCaps) {
  settings_.codes_per_hour = 2;
  for (int i = 0; i < 3; ++i) Queue("c" + std::to_string(i), "verification_code", kTenAm + i);
  const auto d = Claim(kTenAm + 10);
  ASSERT_EQ(d.size(), 3U);
  EXPECT_EQ(d[0].kind, Kind::kSend);
  EXPECT_EQ(d[1].kind, Kind::kSend);
  EXPECT_EQ(d[2].kind, Kind::kDefer);
  EXPECT_EQ(d[2].reason, "verification code cap");
  // Codes do not use up the push cap.
  Queue("push", "match_push", kTenAm + 20);
  EXPECT_EQ(Claim(kTenAm + 20).at(0).kind, Kind::kSend);
}

TEST_F(SmsPolicyTest, AnOptedOutNumberIsRefusedExceptForTheConfirmation) {
  ASSERT_TRUE(store::Suppressions::Add(c_, "sms", kNumber, "opt_out", "sms:td via tencent", kTenAm));
  EXPECT_FALSE(store::Suppressions::Add(c_, "sms", kNumber, "opt_out", "again", kTenAm + 1));
  Queue("reply", "reply", kTenAm);
  Queue("confirm", "opt_out_confirmation", kTenAm);
  const auto d = Claim(kTenAm);
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0].kind, Kind::kRefuse);
  EXPECT_EQ(d[0].reason, "SMS suppressed for this number: opt_out");
  EXPECT_EQ(d[1].kind, Kind::kSend);
}

}  // namespace
}  // namespace duijie::channels::sms
