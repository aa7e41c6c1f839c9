#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace duijie::store {

struct ConnectionOptions {
  std::chrono::milliseconds busy_timeout{5000};
  /// PRAGMA synchronous for the writer: "full" keeps every committed transaction across power
  /// loss; group commit makes its fsync cost shared by a whole batch.
  std::string synchronous = "full";
  bool read_only = false;
};

/// One SQLite connection configured the way every part of duijie expects (WAL, foreign keys,
/// busy timeout), with a cache of prepared statements so hot queries are compiled once.
class Connection {
 public:
  Connection(const std::string& path, const ConnectionOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] SQLite::Database& Db() { return db_; }

  /// The cached statement for `sql`, reset and with its bindings cleared, ready to bind.
  /// `sql` is the cache key, so pass the same literal each time.
  SQLite::Statement& Prepare(std::string_view sql);

  /// Resets every cached statement. A statement left mid-result keeps its read snapshot open,
  /// and an open snapshot stops checkpoints from recycling the WAL, which then grows without
  /// bound: call this when a unit of work ends (the writer before COMMIT, a reader lease on release).
  void ResetStatements();

  /// Runs SQL without results (DDL, PRAGMA assignments).
  void Exec(const std::string& sql) { db_.exec(sql); }

 private:
  SQLite::Database db_;
  // Transparent lookup: a cache hit allocates nothing.
  struct Hash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard library's name
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, Hash, std::equal_to<>> statements_;
};

/// "file::memory:" style paths make each connection its own database; tests use a named
/// shared-cache memory database or a temporary file instead.
[[nodiscard]] bool IsMemoryPath(std::string_view path);

}  // namespace duijie::store
