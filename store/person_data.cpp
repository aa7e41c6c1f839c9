#include "store/person_data.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/mask.hpp"
#include "store/transitions.hpp"

namespace duijie::store {
namespace {

using nlohmann::json;

// Every row of `sql` (its one parameter bound to `id`) as an object by column name.
json Rows(Connection& c, const std::string& sql, std::int64_t id) {
  SQLite::Statement q(c.Db(), sql);
  for (int i = 1; i <= q.getBindParameterCount(); ++i) q.bind(i, id);
  json out = json::array();
  while (q.executeStep()) {
    json row = json::object();
    for (int i = 0; i < q.getColumnCount(); ++i) {
      const auto col = q.getColumn(i);
      if (col.isNull()) {
        row[q.getColumnName(i)] = nullptr;
      } else if (col.isInteger()) {
        row[q.getColumnName(i)] = col.getInt64();
      } else if (col.isFloat()) {
        row[q.getColumnName(i)] = col.getDouble();
      } else {
        const std::string text = col.getString();
        // Columns that hold JSON (payloads, states, lists) are shown as JSON, not as strings.
        const bool looks_json = !text.empty() && (text.front() == '{' || text.front() == '[');
        auto parsed = looks_json ? json::parse(text, nullptr, false) : json();
        row[q.getColumnName(i)] = looks_json && !parsed.is_discarded() ? std::move(parsed) : json(text);
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

// Runs `sql` with every parameter bound to `id`, except ?2 when `now_ms` is given.
std::int64_t Exec(Connection& c, const std::string& sql, std::int64_t id,
                  std::optional<std::int64_t> now_ms = std::nullopt) {
  SQLite::Statement q(c.Db(), sql);
  for (int i = 1; i <= q.getBindParameterCount(); ++i) q.bind(i, i == 2 && now_ms ? *now_ms : id);
  return q.exec();
}

}  // namespace

std::optional<std::int64_t> PersonByAddress(Connection& conn, const std::string& address) {
  std::vector<std::string> forms = {address};
  std::string lower = address;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  forms.push_back(lower);
  const bool digits = !address.empty() && std::all_of(address.begin(), address.end(),
                                                      [](unsigned char ch) { return std::isdigit(ch) != 0; });
  if (digits && address.size() == 11 && address[0] == '1') forms.push_back("+86" + address);
  if (digits) forms.push_back("+" + address);
  SQLite::Statement q(conn.Db(), "SELECT person_id FROM identities WHERE address = ? LIMIT 1");
  for (const auto& f : forms) {
    q.bind(1, f);
    if (q.executeStep()) return q.getColumn(0).getInt64();
    q.reset();
  }
  return std::nullopt;
}

std::string PersonLocale(Connection& conn, std::int64_t id, std::string_view fallback) {
  auto& q = conn.Prepare("SELECT locale FROM people WHERE id = ?");
  q.bind(1, id);
  std::string out = q.executeStep() ? q.getColumn(0).getString() : std::string(fallback);
  q.reset();
  return out;
}

std::optional<json> ExportPerson(Connection& c, std::int64_t id) {
  auto person = Rows(c, "SELECT * FROM people WHERE id = ?", id);
  if (person.empty()) return std::nullopt;
  const std::string enterprises = "SELECT id FROM enterprises WHERE contact_person_id = ?";
  const std::string needs = "SELECT id FROM needs WHERE enterprise_id IN (" + enterprises + ")";
  const std::string pushes = "SELECT id FROM pushes WHERE researcher_person_id = ?";
  json out = {
      {"person", person.front()},
      {"identities",
       Rows(c, "SELECT kind, address, status, verified_at, created_at FROM identities WHERE person_id = ?", id)},
      {"channel_consents", Rows(c, "SELECT * FROM channel_consents WHERE person_id = ?", id)},
      {"researcher", Rows(c,
                          "SELECT r.*, u.name AS unit_name FROM researchers r LEFT JOIN units u ON u.id = r.unit_id "
                          "WHERE r.person_id = ?",
                          id)},
      {"enterprises", Rows(c, "SELECT * FROM enterprises WHERE contact_person_id = ?", id)},
      {"needs", Rows(c, "SELECT * FROM needs WHERE id IN (" + needs + ")", id)},
      {"pushes", Rows(c, "SELECT * FROM pushes WHERE researcher_person_id = ?", id)},
      {"proposals", Rows(c, "SELECT * FROM proposals WHERE push_id IN (" + pushes + ")", id)},
      {"contracts",
       Rows(c, "SELECT * FROM contracts WHERE researcher_person_id = ? OR need_id IN (" + needs + ")", id)},
      {"documents",
       Rows(c,
            "SELECT id, need_id, contract_id, kind, file_name, media_type, size_bytes, sha256, source_channel, status, "
            "created_at FROM documents WHERE owner_person_id = ?",
            id)},
      {"conversation",
       Rows(c, "SELECT flow, state, last_channel, updated_at FROM conversations WHERE person_id = ?", id)},
      {"relayed_messages", Rows(c, "SELECT * FROM relay_messages WHERE from_person_id = ?", id)},
      {"evidence_sent", Rows(c, "SELECT * FROM evidence WHERE person_id = ?", id)},
      {"broadcasts_received", Rows(c, "SELECT * FROM broadcast_recipients WHERE person_id = ?", id)},
      {"messages_received",
       Rows(c, "SELECT id, channel, sender, payload, status, received_at FROM inbox WHERE person_id = ? ORDER BY id",
            id)},
      {"messages_sent",
       Rows(c,
            "SELECT id, channel, recipient, kind, payload, status, created_at, finished_at FROM outbox WHERE "
            "person_id = ? ORDER BY id",
            id)},
      {"transitions", Rows(c,
                           "SELECT entity, entity_id, from_state, to_state, channel, reason, at FROM transitions "
                           "WHERE (entity = 'person' AND entity_id = ?) OR actor_person_id = ? ORDER BY id",
                           id)},
  };
  return out;
}

Erasure ErasePerson(Connection& c, std::int64_t id, const std::string& actor, std::int64_t now_ms) {
  Erasure e;
  SQLite::Statement find(c.Db(), "SELECT status FROM people WHERE id = ?");
  find.bind(1, id);
  if (!find.executeStep()) return e;
  e.found = true;
  const std::string status = find.getColumn(0).getString();

  // Messages to any of their addresses, even ones not linked to the person row.
  const std::string addresses = "SELECT address FROM identities WHERE person_id = ?";
  // Collected first: the rows are updated while being walked otherwise.
  std::vector<std::pair<std::int64_t, std::string>> outbox_rows;
  {
    SQLite::Statement q(c.Db(),
                        "SELECT id, recipient FROM outbox WHERE person_id = ? OR recipient IN (" + addresses + ")");
    q.bind(1, id);
    q.bind(2, id);
    while (q.executeStep()) outbox_rows.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString());
  }
  SQLite::Statement sandbox(c.Db(),
                            "UPDATE sandbox_messages SET recipient = ?, payload = '{}' WHERE idempotency_key = "
                            "(SELECT idempotency_key FROM outbox WHERE id = ?)");
  SQLite::Statement scrub(c.Db(),
                          "UPDATE outbox SET recipient = :masked, payload = '{}', "
                          "status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END, "
                          "last_error = CASE WHEN status = 'pending' THEN 'erased on request' ELSE last_error END, "
                          "finished_at = CASE WHEN status = 'pending' THEN :now ELSE finished_at END, "
                          "updated_at = :now WHERE id = :id");
  for (const auto& [row, recipient] : outbox_rows) {
    const std::string masked = MaskAddress(recipient);
    sandbox.bind(1, masked);
    sandbox.bind(2, row);
    sandbox.exec();
    sandbox.reset();
    scrub.bind(":masked", masked);
    scrub.bind(":now", now_ms);
    scrub.bind(":id", row);
    scrub.exec();
    scrub.reset();
  }
  e.rows["outbox"] = static_cast<std::int64_t>(outbox_rows.size());
  e.rows["inbox"] = Exec(c,
                         "UPDATE inbox SET sender = NULL, payload = '{}', reply_body = NULL WHERE person_id = ? OR "
                         "sender IN (" +
                             addresses + ")",
                         id);
  e.rows["proposals"] = Exec(
      c, "UPDATE proposals SET body = '' WHERE push_id IN (SELECT id FROM pushes WHERE researcher_person_id = ?)", id);
  e.rows["relay_messages"] = Exec(c, "UPDATE relay_messages SET body = '' WHERE from_person_id = ?", id);
  e.rows["reply_windows"] = Exec(c, "DELETE FROM reply_windows WHERE address IN (" + addresses + ")", id);
  e.rows["identities"] = Exec(c, "DELETE FROM identities WHERE person_id = ?", id);
  e.rows["channel_consents"] = Exec(c, "DELETE FROM channel_consents WHERE person_id = ?", id);
  e.rows["conversations"] = Exec(c, "DELETE FROM conversations WHERE person_id = ?", id);
  e.rows["api_tokens"] = Exec(c, "UPDATE api_tokens SET person_id = NULL WHERE person_id = ?", id);
  e.rows["researchers"] = Exec(c,
                               "UPDATE researchers SET title = NULL, keywords = '[]', bio = '', status = 'refused', "
                               "updated_at = ?2 WHERE person_id = ?1",
                               id, now_ms);
  e.rows["people"] = Exec(c,
                          "UPDATE people SET display_name = NULL, preferred_channel = NULL, role = 'unknown', "
                          "updated_at = ?2 WHERE id = ?1",
                          id, now_ms);

  RecordTransition(c, {"person", id, status, "erased", std::nullopt, "cli", "erased on request", now_ms});
  SQLite::Statement audit(
      c.Db(), "INSERT INTO audit_log (actor, action, target, detail, at) VALUES (?, 'person.erase', ?, ?, ?)");
  audit.bind(1, actor);
  audit.bind(2, "person:" + std::to_string(id));
  audit.bind(3, json(e.rows).dump());
  audit.bind(4, now_ms);
  audit.exec();
  return e;
}

}  // namespace duijie::store
