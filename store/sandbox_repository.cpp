#include "store/sandbox_repository.hpp"

namespace duijie::store {

std::int64_t SandboxRepository::Record(Connection& conn, const std::string& idempotency_key, const std::string& channel,
                                       const std::string& recipient, const std::string& payload, std::int64_t now_ms) {
  auto& ins = conn.Prepare(
      "INSERT INTO sandbox_messages (idempotency_key, channel, recipient, payload, recorded_at) "
      "VALUES (:key, :channel, :recipient, :payload, :now)");
  ins.bind(":key", idempotency_key);
  ins.bind(":channel", channel);
  ins.bind(":recipient", recipient);
  ins.bind(":payload", payload);
  ins.bind(":now", now_ms);
  ins.exec();
  return conn.Db().getLastInsertRowid();
}

std::optional<std::int64_t> SandboxRepository::Find(Connection& conn, const std::string& idempotency_key) {
  auto& sel = conn.Prepare("SELECT min(id) FROM sandbox_messages WHERE idempotency_key = :key");
  sel.bind(":key", idempotency_key);
  if (!sel.executeStep() || sel.getColumn(0).isNull()) return std::nullopt;
  return sel.getColumn(0).getInt64();
}

}  // namespace duijie::store
