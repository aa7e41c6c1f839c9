#include "store/retention.hpp"

#include <string>
#include <utility>
#include <vector>

#include "common/mask.hpp"

namespace duijie::store {

Scrubbed ScrubOldMessages(Connection& conn, std::int64_t before_ms, int limit) {
  Scrubbed out;
  // '{}' marks a body already dropped (as ErasePerson leaves it): each row is scrubbed once.
  auto& inbox = conn.Prepare(
      "UPDATE inbox SET payload = '{}', reply_body = NULL, sender = NULL WHERE id IN ("
      "  SELECT id FROM inbox WHERE received_at < :before AND status != 'received' "
      "  AND (payload != '{}' OR sender IS NOT NULL OR reply_body IS NOT NULL) ORDER BY id LIMIT :limit)");
  inbox.bind(":before", before_ms);
  inbox.bind(":limit", limit);
  out.inbox = inbox.exec();
  inbox.reset();

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

  auto& sandbox = conn.Prepare(
      "DELETE FROM sandbox_messages WHERE id IN ("
      "  SELECT id FROM sandbox_messages WHERE recorded_at < :before ORDER BY id LIMIT :limit)");
  sandbox.bind(":before", before_ms);
  sandbox.bind(":limit", limit);
  out.sandbox = sandbox.exec();
  sandbox.reset();

  out.more = out.inbox == limit || out.outbox == limit || out.sandbox == limit;
  return out;
}

}  // namespace duijie::store
