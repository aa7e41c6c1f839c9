#include "store/retention.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mask.hpp"

namespace duijie::store {
namespace {

// Runs a statement over rows older than :before, at most :limit of them; the rows it changed.
std::int64_t ExecOldest(Connection& conn, std::string_view sql, std::int64_t before_ms, int limit) {
  auto& q = conn.Prepare(sql);
  q.bind(":before", before_ms);
  q.bind(":limit", limit);
  const int changed = q.exec();
  q.reset();
  return changed;
}

}  // namespace

Scrubbed ScrubOldMessages(Connection& conn, std::int64_t before_ms, int limit) {
  Scrubbed out;
  // '{}' marks a body already dropped (as ErasePerson leaves it): each row is scrubbed once.
  out.inbox =
      ExecOldest(conn,
                 "UPDATE inbox SET payload = '{}', reply_body = NULL, sender = NULL WHERE id IN ("
                 "  SELECT id FROM inbox WHERE received_at < :before AND status != 'received' "
                 "  AND (payload != '{}' OR sender IS NOT NULL OR reply_body IS NOT NULL) ORDER BY id LIMIT :limit)",
                 before_ms, limit);

  // Collected first: masking needs each address, and the rows change while being walked otherwise.
  std::vector<std::pair<std::int64_t, std::string>> rows;
  {
    auto& q = conn.Prepare(
        "SELECT id, recipient FROM outbox WHERE updated_at < :before "
        "AND status IN ('sent', 'delivered', 'failed', 'dead', 'cancelled', 'sandbox') "
        "AND (payload != '{}' OR fallback IS NOT NULL) ORDER BY id LIMIT :limit");
    q.bind(":before", before_ms);
    q.bind(":limit", limit);
    while (q.executeStep()) rows.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString());
    q.reset();
  }
  // updated_at stays: the row's history is unchanged, only its personal content goes.
  auto& outbox = conn.Prepare("UPDATE outbox SET payload = '{}', fallback = NULL, recipient = :masked WHERE id = :id");
  for (const auto& [id, recipient] : rows) {
    outbox.bind(":masked", MaskAddress(recipient));
    outbox.bind(":id", id);
    outbox.exec();
    outbox.reset();
  }
  out.outbox = static_cast<std::int64_t>(rows.size());

  out.sandbox = ExecOldest(conn,
                           "DELETE FROM sandbox_messages WHERE id IN ("
                           "  SELECT id FROM sandbox_messages WHERE recorded_at < :before ORDER BY id LIMIT :limit)",
                           before_ms, limit);

  out.more = out.inbox == limit || out.outbox == limit || out.sandbox == limit;
  return out;
}

}  // namespace duijie::store
