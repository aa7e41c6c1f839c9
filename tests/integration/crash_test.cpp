// The ledger's promise under the worst case: the process is SIGKILLed while it dispatches. After
// restarts every message must end sent exactly once: none lost, none twice.
#include <thread>

#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include <signal.h>

namespace duijie {
namespace {

using namespace std::chrono_literals;

constexpr int kMessages = 1000;

long long Scalar(const std::string& db, const std::string& sql) {
  store::ConnectionOptions o;
  o.read_only = true;
  store::Connection c(db, o);
  return c.Db().execAndGet(sql).getInt64();
}

TEST(CrashTest, KilledDuringDispatchEveryMessageEndsSandboxedExactlyOnce) {
  test::TempDir dir;
  const std::string db = dir.File("duijie.db");
  {
    store::Connection c(db, {});
    ASSERT_TRUE(store::Migrate(c));
    SQLite::Transaction tx(c.Db());
    const char* channels[] = {"sms", "wecom", "email"};
    for (int i = 0; i < kMessages; ++i) {
      store::NewOutboxMessage m{"crash-" + std::to_string(i),
                                channels[i % 3],
                                "+86138000" + std::to_string(10000 + i),
                                "reminder",
                                R"({"kind":"text","text":"合同签订截止提醒"})",
                                std::nullopt,
                                std::nullopt,
                                0,
                                8,
                                0,
                                {},
                                std::nullopt};
      store::OutboxRepository::Enqueue(c, m, 1'790'000'000'000);
    }
    tx.commit();
  }
  const std::map<std::string, std::string> env{
      {"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
      {"DUIJIE_STORE_PATH", db},
      // The SMS rules would hold these reminders (quiet hours, one a number an hour): off here.
      {"DUIJIE_SMS_QUIET_HOURS", ""},
      {"DUIJIE_LOG_LEVEL", "debug"},
      {"DUIJIE_LOG_ACCESS", "false"},
      {"DUIJIE_SMS_RATE_PER_S", "1000"},
      {"DUIJIE_WECOM_RATE_PER_S", "1000"},
      {"DUIJIE_EMAIL_RATE_PER_S", "1000"},
      {"DUIJIE_SMS_BURST", "32"},
      {"DUIJIE_WECOM_BURST", "32"},
      {"DUIJIE_EMAIL_BURST", "32"}};

  int kills_mid_dispatch = 0;
  for (int round = 0; round < 3; ++round) {
    test::ChildProcess child(DUIJIE_BINARY, {"serve"}, env, dir.Path().string());
    child.WaitForPort();
    child.WaitForLine("\"msg\":\"outbox attempt\"", 30s, 120);
    child.Signal(SIGKILL);
    ASSERT_EQ(child.Wait(10s), 128 + SIGKILL);
    const auto in_doubt = Scalar(db, "SELECT count(*) FROM outbox WHERE status = 'sending'");
    const auto done = Scalar(db, "SELECT count(*) FROM outbox WHERE status = 'sandbox'");
    ASSERT_LT(done, kMessages) << "dispatch finished before the kill; the test proves nothing";
    if (in_doubt > 0) ++kills_mid_dispatch;
  }
  EXPECT_GT(kills_mid_dispatch, 0) << "no kill landed while a send was in flight";

  test::ChildProcess child(DUIJIE_BINARY, {"serve"}, env, dir.Path().string());
  child.WaitForPort();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (Scalar(db, "SELECT count(*) FROM outbox WHERE status = 'sandbox'") < kMessages &&
         std::chrono::steady_clock::now() < deadline) {
    // Waiting for a condition with a deadline, not timing anything.
    std::this_thread::sleep_for(20ms);
  }
  child.Signal(SIGTERM);
  ASSERT_EQ(child.Wait(20s), 0);
  for (const auto& line : child.Lines()) {
    if (line.find("\"level\":\"warn\"") != std::string::npos || line.find("\"level\":\"error\"") != std::string::npos) {
      ADD_FAILURE() << line;
    }
  }

  {
    store::ConnectionOptions o;
    o.read_only = true;
    store::Connection c(db, o);
    SQLite::Statement q(c.Db(),
                        "SELECT id, status, attempts, COALESCE(claimed_by, ''), next_attempt_at, "
                        "(SELECT group_concat(outcome) FROM outbox_attempts a WHERE a.outbox_id = o.id) "
                        "FROM outbox o WHERE status != 'sandbox' LIMIT 20");
    while (q.executeStep()) {
      ADD_FAILURE() << "unfinished: id " << q.getColumn(0).getInt64() << " " << q.getColumn(1).getString()
                    << " attempts " << q.getColumn(2).getInt() << " by " << q.getColumn(3).getString() << " due "
                    << q.getColumn(4).getInt64() << " outcomes " << q.getColumn(5).getString();
    }
  }
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM outbox WHERE status = 'sandbox'"), kMessages);
  // The sandbox record is the observable side effect: exactly one per message.
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM sandbox_messages"), kMessages);
  EXPECT_EQ(Scalar(db, "SELECT count(DISTINCT idempotency_key) FROM sandbox_messages"), kMessages);
  EXPECT_EQ(Scalar(db,
                   "SELECT count(*) FROM outbox o WHERE NOT EXISTS "
                   "(SELECT 1 FROM sandbox_messages s WHERE s.idempotency_key = o.idempotency_key)"),
            0);
  // Every message's provider reference points at its own sandbox record.
  EXPECT_EQ(Scalar(db,
                   "SELECT count(*) FROM outbox o JOIN sandbox_messages s "
                   "ON s.idempotency_key = o.idempotency_key AND o.provider_ref = 'sandbox-' || s.id"),
            kMessages);
  // Every attempt has an outcome, and the in-doubt ones were resolved by lookup.
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM outbox_attempts WHERE outcome = 'in_flight'"), 0);
  EXPECT_GT(Scalar(db, "SELECT count(*) FROM outbox_attempts WHERE outcome IN ('recovered_sent', 'recovered_lost')"),
            0);
}

}  // namespace
}  // namespace duijie
