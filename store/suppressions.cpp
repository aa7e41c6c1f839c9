#include "store/suppressions.hpp"

#include <SQLiteCpp/Statement.h>

namespace duijie::store {

bool Suppressions::Add(Connection& conn, std::string_view channel, std::string_view address, std::string_view reason,
                       std::string_view source, std::int64_t now_ms) {
  auto& ins = conn.Prepare(
      "INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (channel, address) DO NOTHING");
  ins.bind(1, std::string(channel));
  ins.bind(2, std::string(address));
  ins.bind(3, std::string(reason));
  ins.bind(4, std::string(source));
  ins.bind(5, now_ms);
  return ins.exec() == 1;
}

std::optional<std::string> Suppressions::Find(Connection& conn, std::string_view channel, std::string_view address) {
  auto& q = conn.Prepare("SELECT reason FROM suppressions WHERE channel = ? AND address = ?");
  q.bind(1, std::string(channel));
  q.bind(2, std::string(address));
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

bool Suppressions::Remove(Connection& conn, std::string_view channel, std::string_view address,
                          std::string_view reason) {
  auto& del = conn.Prepare("DELETE FROM suppressions WHERE channel = ? AND address = ? AND reason = ?");
  del.bind(1, std::string(channel));
  del.bind(2, std::string(address));
  del.bind(3, std::string(reason));
  const bool removed = del.exec() > 0;
  del.reset();
  return removed;
}

std::string LocalSecret(Connection& conn, std::string_view name, std::string_view candidate, std::int64_t now_ms) {
  auto& ins = conn.Prepare("INSERT OR IGNORE INTO local_secrets (name, value, created_at) VALUES (:n, :v, :t)");
  ins.bind(":n", std::string(name));
  ins.bind(":v", std::string(candidate));
  ins.bind(":t", now_ms);
  ins.exec();
  ins.reset();
  auto& get = conn.Prepare("SELECT value FROM local_secrets WHERE name = :n");
  get.bind(":n", std::string(name));
  get.executeStep();
  std::string value = get.getColumn(0).getString();
  get.reset();
  return value;
}

}  // namespace duijie::store
