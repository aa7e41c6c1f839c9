#include "store/migrations.hpp"

#include <gtest/gtest.h>

#include "store/schema.hpp"
#include "support/temp_dir.hpp"

namespace duijie::store {
namespace {

TEST(Migrations, FreshDatabaseReachesLatestAndRerunIsNoOp) {
  test::TempDir dir;
  Connection conn(dir.File("a.db"), {});
  const auto first = Migrate(conn);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->from_version, 0);
  EXPECT_EQ(first->to_version, LatestSchemaVersion());
  const auto second = Migrate(conn);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->from_version, LatestSchemaVersion());
  EXPECT_EQ(second->to_version, LatestSchemaVersion());
}

TEST(Migrations, CreatesTheLedgerAndDomainTables) {
  test::TempDir dir;
  Connection conn(dir.File("a.db"), {});
  ASSERT_TRUE(Migrate(conn));
  for (const char* table : {"people",
                            "identities",
                            "channel_consents",
                            "units",
                            "enterprises",
                            "researchers",
                            "programmes",
                            "needs",
                            "need_reviews",
                            "pushes",
                            "proposals",
                            "contracts",
                            "documents",
                            "conversations",
                            "relay_messages",
                            "broadcasts",
                            "broadcast_recipients",
                            "api_tokens",
                            "transitions",
                            "audit_log",
                            "inbox",
                            "outbox",
                            "outbox_attempts",
                            "sandbox_messages"}) {
    EXPECT_TRUE(conn.Db().tableExists(table)) << table;
  }
}

TEST(Migrations, DatabaseNewerThanBinaryIsRefusedUntouched) {
  test::TempDir dir;
  Connection conn(dir.File("a.db"), {});
  conn.Exec("PRAGMA user_version=" + std::to_string(LatestSchemaVersion() + 1));
  const auto report = Migrate(conn);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("newer"), std::string::npos);
  EXPECT_FALSE(conn.Db().tableExists("outbox"));
}

TEST(Migrations, SettingsAreApplied) {
  test::TempDir dir;
  Connection conn(dir.File("a.db"), {});
  EXPECT_EQ(conn.Db().execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(conn.Db().execAndGet("PRAGMA foreign_keys").getInt(), 1);
  EXPECT_EQ(conn.Db().execAndGet("PRAGMA synchronous").getInt(), 2);  // FULL
  EXPECT_EQ(conn.Db().execAndGet("PRAGMA busy_timeout").getInt(), 5000);
}

TEST(Migrations, ReviewsWithoutReasonAreRefusedBySchema) {
  test::TempDir dir;
  Connection conn(dir.File("a.db"), {});
  ASSERT_TRUE(Migrate(conn));
  conn.Exec(
      "INSERT INTO programmes (code, name, definition, created_at) VALUES ('hubei-2020', 'Hubei', '{}', 0);"
      "INSERT INTO people (role, created_at, updated_at) VALUES ('enterprise_contact', 0, 0);"
      "INSERT INTO enterprises (name, credit_code, region, industry, contact_person_id, created_at, updated_at) "
      "VALUES ('E', '91420100MA4K0XXXX1', 'wuhan', 'ai', 1, 0, 0);"
      "INSERT INTO needs (enterprise_id, programme_id, title, created_at, updated_at) VALUES (1, 1, 'T', 0, 0);");
  EXPECT_ANY_THROW(
      conn.Exec("INSERT INTO need_reviews (need_id, level, decision, created_at) VALUES (1, 'bureau', 'return', 0)"));
  EXPECT_NO_THROW(
      conn.Exec("INSERT INTO need_reviews (need_id, level, decision, reason, created_at) "
                "VALUES (1, 'bureau', 'return', '金额不足', 0)"));
}

}  // namespace
}  // namespace duijie::store
