#include "store/inbox_repository.hpp"

namespace duijie::store {

InboxEntry InboxRepository::Begin(Connection& conn, const InboundRecord& record, std::int64_t now_ms) {
  auto& ins = conn.Prepare(
      "INSERT INTO inbox (channel, provider_key, sender, person_id, payload, received_at) "
      "VALUES (:channel, :key, :sender, :person, :payload, :now) ON CONFLICT (channel, provider_key) DO NOTHING");
  ins.bind(":channel", record.channel);
  ins.bind(":key", record.provider_key);
  ins.bind(":sender", record.sender);
  if (record.person_id) {
    ins.bind(":person", *record.person_id);
  } else {
    ins.bind(":person");
  }
  ins.bind(":payload", record.payload);
  ins.bind(":now", now_ms);
  if (ins.exec() == 1) {
    return InboxEntry{conn.Db().getLastInsertRowid(), false, "received", 1, std::nullopt};
  }
  auto& upd = conn.Prepare(
      "UPDATE inbox SET deliveries = deliveries + 1 WHERE channel = :channel AND provider_key = :key "
      "RETURNING id, status, deliveries, reply_status, reply_type, reply_body");
  upd.bind(":channel", record.channel);
  upd.bind(":key", record.provider_key);
  upd.executeStep();
  InboxEntry entry;
  entry.id = upd.getColumn(0).getInt64();
  entry.duplicate = true;
  entry.status = upd.getColumn(1).getString();
  entry.deliveries = upd.getColumn(2).getInt();
  if (!upd.getColumn(3).isNull()) {
    StoredReply reply;
    reply.status = upd.getColumn(3).getInt();
    reply.content_type = upd.getColumn(4).isNull() ? "" : upd.getColumn(4).getString();
    const auto body = upd.getColumn(5);
    reply.body.assign(static_cast<const char*>(body.getBlob()), static_cast<std::size_t>(body.getBytes()));
    entry.reply = std::move(reply);
  }
  while (upd.executeStep()) {
  }
  return entry;
}

void InboxRepository::Complete(Connection& conn, std::int64_t id, const std::string& status, const StoredReply& reply,
                               std::int64_t now_ms) {
  auto& upd = conn.Prepare(
      "UPDATE inbox SET status = :status, reply_status = :rs, reply_type = :rt, reply_body = :rb, "
      "processed_at = :now WHERE id = :id");
  upd.bind(":status", status);
  upd.bind(":rs", reply.status);
  upd.bind(":rt", reply.content_type);
  upd.bind(":rb", reply.body.data(), static_cast<int>(reply.body.size()));
  upd.bind(":now", now_ms);
  upd.bind(":id", id);
  upd.exec();
}

std::map<std::string, std::int64_t> InboxRepository::CountByStatus(Connection& conn) {
  std::map<std::string, std::int64_t> out;
  auto& sel = conn.Prepare("SELECT status, count(*) FROM inbox GROUP BY status");
  while (sel.executeStep()) out[sel.getColumn(0).getString()] = sel.getColumn(1).getInt64();
  return out;
}

}  // namespace duijie::store
