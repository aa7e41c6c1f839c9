#include "store/connection.hpp"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

namespace duijie::store {
namespace {

int OpenFlags(const ConnectionOptions& options) {
  int flags = options.read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  flags |= SQLite::OPEN_URI | SQLITE_OPEN_NOMUTEX;  // one connection is only ever used by one thread
  return flags;
}

}  // namespace

bool IsMemoryPath(std::string_view path) {
  return path == ":memory:" || path.find("mode=memory") != std::string_view::npos;
}

Connection::Connection(const std::string& path, const ConnectionOptions& options)
    : db_(path, OpenFlags(options), static_cast<int>(options.busy_timeout.count())) {
  if (!options.read_only) {
    if (!IsMemoryPath(path)) {
      // WAL lets readers proceed while the single writer commits.
      db_.exec("PRAGMA journal_mode=WAL");
    }
    db_.exec("PRAGMA synchronous=" + options.synchronous);
  }
  db_.exec("PRAGMA foreign_keys=ON");
  db_.exec("PRAGMA temp_store=MEMORY");
}

void Connection::ResetStatements() {
  for (auto& [sql, statement] : statements_) statement->reset();
}

SQLite::Statement& Connection::Prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(std::string(sql), std::make_unique<SQLite::Statement>(db_, std::string(sql))).first;
  } else {
    it->second->reset();
    it->second->clearBindings();
  }
  return *it->second;
}

}  // namespace duijie::store
