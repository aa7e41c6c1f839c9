#include "channels/sandbox_sender.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::channels {
namespace {

store::OutboxMessage Message(const std::string& key) {
  store::OutboxMessage m;
  m.id = 1;
  m.idempotency_key = key;
  m.channel = "sms";
  m.recipient = "+8613812345678";
  m.kind = "reminder";
  m.payload = R"({"kind":"text","text":"提醒"})";
  return m;
}

TEST(SandboxSender, RecordsTheMessageAndReportsSandbox) {
  net::io_context ioc;  // first: outlives the writer/readers whose completions it runs
  test::TestDb db;
  store::Writer writer(db.Path(), {});
  test::FakeClock clock;
  SandboxSender sender(writer, clock);
  const auto msg = Message("k1");
  const auto record = test::RunAwaitable(ioc, sender.Send(msg));
  EXPECT_EQ(record.outcome, store::AttemptOutcome::kSandbox);
  EXPECT_EQ(record.sender, "sandbox");
  EXPECT_EQ(record.provider_ref.rfind("sandbox-", 0), 0U);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM sandbox_messages WHERE idempotency_key = 'k1'"), 1);
}

TEST(SandboxSender, LookupKnowsWhatWasAndWasNotRecorded) {
  net::io_context ioc;  // first: outlives the writer/readers whose completions it runs
  test::TestDb db;
  store::Writer writer(db.Path(), {});
  test::FakeClock clock;
  SandboxSender sender(writer, clock);
  const auto sent = Message("sent");
  (void)test::RunAwaitable(ioc, sender.Send(sent));
  const auto found = test::RunAwaitable(ioc, sender.Lookup(sent));
  EXPECT_EQ(found.recovery, store::Recovery::kWasSent);
  EXPECT_EQ(found.sent_status, "sandbox");
  const auto lost = Message("lost");
  EXPECT_EQ(test::RunAwaitable(ioc, sender.Lookup(lost)).recovery, store::Recovery::kWasLost);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM sandbox_messages"), 1);  // lookups send nothing
}

}  // namespace
}  // namespace duijie::channels
