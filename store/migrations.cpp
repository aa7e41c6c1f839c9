#include "store/migrations.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Transaction.h>

#include "store/schema.hpp"

namespace duijie::store {

int LatestSchemaVersion() { return static_cast<int>(AllMigrations().size()); }

int SchemaVersion(Connection& conn) { return conn.Db().execAndGet("PRAGMA user_version").getInt(); }

Result<MigrationReport> Migrate(Connection& conn) {
  const auto steps = AllMigrations();
  MigrationReport report;
  try {
    report.from_version = SchemaVersion(conn);
    report.to_version = report.from_version;
    if (report.from_version > LatestSchemaVersion()) {
      return Error(Errc::kConflict, "database schema version " + std::to_string(report.from_version) +
                                        " is newer than this binary's " + std::to_string(LatestSchemaVersion()));
    }
    for (int v = report.from_version; v < LatestSchemaVersion(); ++v) {
      const auto& step = steps[static_cast<std::size_t>(v)];
      SQLite::Transaction tx(conn.Db(), SQLite::TransactionBehavior::IMMEDIATE);
      // Re-check inside the write lock: another process may have migrated meanwhile.
      if (SchemaVersion(conn) != v) {
        report.to_version = SchemaVersion(conn);
        break;
      }
      conn.Exec(std::string(step.sql));
      if (step.code != nullptr) step.code(conn);
      conn.Exec("PRAGMA user_version=" + std::to_string(v + 1));
      tx.commit();
      report.to_version = v + 1;
    }
  } catch (const SQLite::Exception& e) {
    return Error(Errc::kInternal, std::string("migration failed: ") + e.what());
  }
  return report;
}

}  // namespace duijie::store
