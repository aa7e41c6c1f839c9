#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "store/connection.hpp"

namespace duijie::store {

/// The record the sandbox sender keeps of what it "sent": the stand-in for a provider's own log,
/// queried after a crash exactly like a provider's status API.
class SandboxRepository {
 public:
  static std::int64_t Record(Connection& conn, const std::string& idempotency_key, const std::string& channel,
                             const std::string& recipient, const std::string& payload, std::int64_t now_ms);
  /// The first record for the key, if any.
  static std::optional<std::int64_t> Find(Connection& conn, const std::string& idempotency_key);
};

}  // namespace duijie::store
