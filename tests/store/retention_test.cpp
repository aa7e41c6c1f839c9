// Message retention against a real (temporary) database.
#include "store/retention.hpp"

#include <gtest/gtest.h>

#include "store/inbox_repository.hpp"
#include "store/outbox_repository.hpp"
#include "support/test_db.hpp"

namespace duijie::store {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kOld = 1'700'000'000'000;
constexpr std::int64_t kCutoff = kOld + 30 * kDay;

class RetentionTest : public ::testing::Test {
 protected:
  std::int64_t Inbound(const std::string& key, std::int64_t at, bool complete = true) {
    const auto e =
        InboxRepository::Begin(c_, {"sms", key, "+8613812345678", R"({"kind":"text","text":"1"})", std::nullopt}, at);
    if (complete) InboxRepository::Complete(c_, e.id, "processed", {200, "application/json", "{\"ok\":1}"}, at);
    return e.id;
  }
  // A message to `recipient` that ends `status` at `at` ('pending' leaves it waiting).
  std::int64_t Outbound(const std::string& key, std::int64_t at, const std::string& status) {
    NewOutboxMessage m;
    m.idempotency_key = key;
    m.channel = "sms";
    m.recipient = "+8613812345678";
    m.kind = "match_push";
    m.payload = R"({"kind":"text","text":"高镍正极材料需求，回复1 A7K"})";
    m.max_attempts = 3;
    m.fallback = {{"email", "zhang.san@example.com"}};
    const auto id = OutboxRepository::Enqueue(c_, m, at).id;
    if (status == "pending") return id;
    EXPECT_EQ(OutboxRepository::ClaimDue(c_, "me", "sms", at, 10).size(), 1U);
    if (status == "sending") return id;
    EXPECT_TRUE(OutboxRepository::Finish(c_, id, 1, {AttemptOutcome::kSent, "tencent", "t:" + key, ""}, at, at));
    return id;
  }

  test::TestDb db_;
  Connection& c_ = db_.Conn();
};

TEST_F(RetentionTest, OldFinishedMessagesLoseTheirBodiesAndAddressesOnlyOnce) {
  const auto old_in = Inbound("old", kOld);
  const auto open_in = Inbound("open", kOld, false);  // never finished: left for recovery
  const auto new_in = Inbound("new", kCutoff + 1);
  const auto old_out = Outbound("old", kOld, "sent");
  const auto new_out = Outbound("new", kCutoff + 1, "sent");
  const auto old_pending = Outbound("waiting", kOld, "pending");
  c_.Exec(
      "INSERT INTO sandbox_messages (idempotency_key, channel, recipient, payload, recorded_at) VALUES "
      "('a', 'sms', '+8613812345678', '{\"text\":\"x\"}', " +
      std::to_string(kOld) +
      "), "
      "('b', 'sms', '+8613812345678', '{\"text\":\"y\"}', " +
      std::to_string(kCutoff + 1) + ")");
  const auto updated_before = db_.Scalar("SELECT updated_at FROM outbox WHERE id = " + std::to_string(old_out));

  const auto done = ScrubOldMessages(c_, kCutoff, 100);
  EXPECT_EQ(done.inbox, 1);
  EXPECT_EQ(done.outbox, 1);
  EXPECT_EQ(done.sandbox, 1);
  EXPECT_FALSE(done.more);

  const auto in = [&](std::int64_t id, const std::string& what) {
    return db_.Scalar("SELECT count(*) FROM inbox WHERE id = " + std::to_string(id) + " AND " + what);
  };
  EXPECT_EQ(in(old_in, "payload = '{}' AND sender IS NULL AND reply_body IS NULL AND provider_key = 'old'"), 1);
  EXPECT_EQ(in(open_in, "payload != '{}' AND sender IS NOT NULL"), 1);
  EXPECT_EQ(in(new_in, "payload != '{}' AND sender IS NOT NULL AND reply_body IS NOT NULL"), 1);
  const auto out = [&](std::int64_t id) { return OutboxRepository::Find(c_, id); };
  EXPECT_EQ(out(old_out)->payload, "{}");
  EXPECT_EQ(out(old_out)->recipient, "+86138****5678");
  EXPECT_EQ(out(old_out)->status, "sent");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE fallback IS NULL AND id = " + std::to_string(old_out)), 1);
  EXPECT_EQ(db_.Scalar("SELECT updated_at FROM outbox WHERE id = " + std::to_string(old_out)), updated_before);
  EXPECT_EQ(out(old_pending)->recipient, "+8613812345678");  // still to be sent
  EXPECT_NE(out(old_pending)->payload, "{}");
  EXPECT_EQ(out(new_out)->recipient, "+8613812345678");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM sandbox_messages"), 1);
  // Redelivered after the scrub, the message is still known as one.
  EXPECT_TRUE(InboxRepository::Begin(c_, {"sms", "old", "+8613812345678", "{}", std::nullopt}, kCutoff + 2).duplicate);

  const auto again = ScrubOldMessages(c_, kCutoff, 100);
  EXPECT_EQ(again.Total(), 0);
}

TEST_F(RetentionTest, ALimitedCallSaysThereIsMore) {
  for (int i = 0; i < 5; ++i) Outbound("m" + std::to_string(i), kOld, "sent");
  const auto first = ScrubOldMessages(c_, kCutoff, 3);
  EXPECT_EQ(first.outbox, 3);
  EXPECT_TRUE(first.more);
  const auto second = ScrubOldMessages(c_, kCutoff, 3);
  EXPECT_EQ(second.outbox, 2);
  EXPECT_FALSE(second.more);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM outbox WHERE payload = '{}'"), 5);
}

}  // namespace
}  // namespace duijie::store
