#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "store/connection.hpp"

namespace duijie::store {

struct InboundRecord {
  std::string channel;
  std::string provider_key;  // unique per channel: MsgId, a composite event key, a provider id
  std::string sender;
  std::string payload;  // the neutral event as JSON
  std::optional<std::int64_t> person_id;
};

/// The HTTP answer given to a delivery, replayed to every redelivery.
struct StoredReply {
  int status = 200;
  std::string content_type;
  std::string body;
};

struct InboxEntry {
  std::int64_t id = 0;
  bool duplicate = false;  // seen before: do not process again, answer with `reply`
  std::string status;
  int deliveries = 1;
  std::optional<StoredReply> reply;
};

/// The inbox half of the ledger. Call Begin, run the dialog, enqueue outbox rows and Complete in
/// ONE writer job: the unique (channel, provider_key) then makes processing exactly-once.
class InboxRepository {
 public:
  static InboxEntry Begin(Connection& conn, const InboundRecord& record, std::int64_t now_ms);
  /// status: 'processed', 'ignored' or 'failed'.
  static void Complete(Connection& conn, std::int64_t id, const std::string& status, const StoredReply& reply,
                       std::int64_t now_ms);
  static std::map<std::string, std::int64_t> CountByStatus(Connection& conn);
};

}  // namespace duijie::store
