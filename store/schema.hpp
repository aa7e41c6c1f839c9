#pragma once
#include <span>
#include <string>
#include <string_view>

namespace duijie::store {

class Connection;

/// One schema step. Steps are applied in order; step i moves PRAGMA user_version from i to i+1.
struct Migration {
  std::string_view name;
  std::string_view sql;
  /// What SQL alone cannot say, run after `sql` in the same transaction.
  void (*code)(Connection&) = nullptr;
};

/// `x IN ('a', 'b', 'c')` with more than two literals rewritten as `(x = 'a' OR x = 'b' OR
/// x = 'c')`, comments and layout kept. SQLite evaluates an IN list of three or more by building
/// a temporary b-tree each time the statement runs; a CHECK constraint is evaluated on every write
/// of its column, so on the hot path that b-tree cost more than the write itself. Lists of
/// non-literals, and anything inside string literals or comments, are left alone.
[[nodiscard]] std::string InListsToEqualities(std::string_view sql);

/// Every migration ever shipped, oldest first. Append only: a released step is never edited.
[[nodiscard]] std::span<const Migration> AllMigrations();

}  // namespace duijie::store
