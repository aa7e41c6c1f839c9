#pragma once
#include <span>
#include <string_view>

namespace duijie::store {

/// One schema step. Steps are applied in order; step i moves PRAGMA user_version from i to i+1.
struct Migration {
  std::string_view name;
  std::string_view sql;
};

/// Every migration ever shipped, oldest first. Append only: a released step is never edited.
[[nodiscard]] std::span<const Migration> AllMigrations();

}  // namespace duijie::store
