#include "store/migrations.hpp"

#include <SQLiteCpp/Statement.h>
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

TEST(InListsToEqualities, ListsOfThreeOrMoreLiteralsBecomeEqualitiesKeepingComments) {
  EXPECT_EQ(InListsToEqualities("CHECK (status IN ('a', 'b', 'c'))"),
            "CHECK ((status = 'a' OR status = 'b' OR status = 'c'))");
  EXPECT_EQ(InListsToEqualities("status TEXT CHECK (status IN (\n  'a',  -- first, or 'x'\n  'b', /* b */ 'c'))"),
            "status TEXT CHECK ((\n  status = 'a' OR  -- first, or 'x'\n  status = 'b' OR /* b */ status = 'c'))");
  EXPECT_EQ(InListsToEqualities("CHECK (talk IS NULL OR talk in (1, 2, -3))"),
            "CHECK (talk IS NULL OR (talk = 1 OR talk = 2 OR talk = -3))");
}

TEST(InListsToEqualities, LeavesEverythingElseAlone) {
  for (const char* sql : {"CHECK (active IN (0, 1))",              // two: SQLite compares directly
                          "CHECK (x NOT IN ('a', 'b', 'c'))",      // NOT IN keeps its meaning
                          "CHECK (t.x IN ('a', 'b', 'c'))",        // qualified
                          "CHECK (x IN (SELECT y FROM t))",        // not literals
                          "CHECK (x IN ('a', y, 'c'))",            // not all literals
                          "DEFAULT 'x IN (''a'', ''b'', ''c'')'",  // inside a string
                          "-- x IN ('a', 'b', 'c')\n",             // inside a comment
                          "\"x IN ('a', 'b', 'c')\"",              // a quoted identifier
                          "CHECK (x IN ('a', 'b', 'c'"}) {         // unterminated
    EXPECT_EQ(InListsToEqualities(sql), sql) << sql;
  }
}

// The rewritten constraints still refuse what the old ones refused, and the statements the
// dispatcher runs for every message build no temporary b-tree (each one cost more than the write).
// A later migration that writes `x IN ('a', 'b', 'c')` into a CHECK or a partial index brings
// back a temporary b-tree on every write of that column (migration 11): say it with equalities.
TEST(Migrations, NoStoredTableOrIndexHasAnInListOfThreeOrMoreLiterals) {
  test::TempDir dir;
  Connection conn(dir.File("a.db"), {});
  ASSERT_TRUE(Migrate(conn));
  SQLite::Statement q(conn.Db(), "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL");
  int checked = 0;
  while (q.executeStep()) {
    const std::string sql = q.getColumn(1).getString();
    EXPECT_EQ(InListsToEqualities(sql), sql) << q.getColumn(0).getString();
    ++checked;
  }
  EXPECT_GT(checked, 40);
}

TEST(Migrations, InListChecksStillRefuseAndHotWritesBuildNoTemporaryTables) {
  test::TempDir dir;
  const auto path = dir.File("a.db");
  const auto temporary_tables = [](Connection& conn, const std::string& sql) {
    SQLite::Statement explain(conn.Db(), "EXPLAIN " + sql);
    int n = 0;
    while (explain.executeStep()) n += explain.getColumn(1).getString() == "OpenEphemeral" ? 1 : 0;
    return n;
  };
  {
    Connection conn(path, {});
    ASSERT_TRUE(Migrate(conn));
    // The migrating connection uses the new schema at once.
    EXPECT_EQ(temporary_tables(conn, "UPDATE outbox SET status = 'sent' WHERE id = 1"), 0);
    EXPECT_EQ(conn.Db().execAndGet("PRAGMA integrity_check").getString(), "ok");
    conn.Exec(
        "INSERT INTO outbox (idempotency_key, channel, recipient, kind, payload, next_attempt_at, created_at, "
        "updated_at) VALUES ('k', 'sms', '+8613800000000', 'reminder', '{}', 0, 0, 0)");
    EXPECT_ANY_THROW(conn.Exec("UPDATE outbox SET status = 'mislaid'"));
    EXPECT_NO_THROW(conn.Exec("UPDATE outbox SET status = 'sending'"));
    EXPECT_ANY_THROW(
        conn.Exec("INSERT INTO outbox_attempts (outbox_id, attempt, outcome, started_at) VALUES (1, 1, 'maybe', 0)"));
  }
  Connection conn(path, {});  // a connection that reads the stored schema afresh
  EXPECT_ANY_THROW(conn.Exec("UPDATE outbox SET status = 'mislaid'"));
  EXPECT_ANY_THROW(conn.Exec("INSERT INTO people (role, created_at, updated_at) VALUES ('guest', 0, 0)"));
  for (const char* sql :
       {"UPDATE outbox SET status = 'sent', updated_at = 1 WHERE id = 1 AND status = 'sending'",
        "INSERT INTO outbox_attempts (outbox_id, attempt, outcome, started_at) VALUES (1, 1, 'in_flight', 0)",
        "UPDATE outbox_attempts SET outcome = 'sent' WHERE outbox_id = 1 AND attempt = 1",
        "INSERT INTO inbox (channel, provider_key, payload, received_at) VALUES ('wecom', 'm', '{}', 0)"}) {
    EXPECT_EQ(temporary_tables(conn, sql), 0) << sql;
  }
}

}  // namespace
}  // namespace duijie::store
