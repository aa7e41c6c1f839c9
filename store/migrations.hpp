#pragma once
#include "common/error.hpp"
#include "store/connection.hpp"

namespace duijie::store {

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
};

/// The schema version this binary expects.
[[nodiscard]] int LatestSchemaVersion();
/// PRAGMA user_version of the connected database.
[[nodiscard]] int SchemaVersion(Connection& conn);

/// Applies every step above the database's user_version, each in its own transaction, so a
/// failure leaves the database at the last complete step. Re-running is a no-op. A database
/// newer than this binary is refused rather than touched.
[[nodiscard]] Result<MigrationReport> Migrate(Connection& conn);

}  // namespace duijie::store
