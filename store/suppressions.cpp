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

}  // namespace duijie::store
