#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "store/connection.hpp"

namespace duijie::store {

/// One state change of a need, person, push, ... (the `transitions` table: the one source for
/// histories, reports and reminders).
struct TransitionRecord {
  std::string entity;  // 'need', 'person', ...
  std::int64_t entity_id = 0;
  std::optional<std::string> from;
  std::string to;
  std::optional<std::int64_t> actor;  // the person who caused it, if a person did
  std::string channel;                // 'wecom', 'sms', 'email', 'api', 'cli', 'system'
  std::string reason;                 // empty: none given
  std::int64_t at = 0;
};

void RecordTransition(Connection& conn, const TransitionRecord& t);

}  // namespace duijie::store
