#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "store/connection.hpp"

namespace duijie::store {

/// The person an address belongs to (a mobile in any form the identities keep, an email, a WeCom
/// userid), or nullopt.
[[nodiscard]] std::optional<std::int64_t> PersonByAddress(Connection& conn, const std::string& address);

/// The locale person `id` chose (`zh-CN`, `en`), or `fallback` when there is no such person.
[[nodiscard]] std::string PersonLocale(Connection& conn, std::int64_t id, std::string_view fallback);

/// Everything the store holds about person `id` (个人信息保护法 art. 45: a copy on request), as
/// one JSON document: the person and their identities and consents, their researcher record or
/// the enterprises they are the contact of with those enterprises' needs, pushes, proposals,
/// contracts, documents (metadata; the files are under store.files_dir by SHA-256), the open
/// conversation, relayed messages, and the messages in the inbox and outbox. nullopt: no such
/// person.
[[nodiscard]] std::optional<nlohmann::json> ExportPerson(Connection& conn, std::int64_t id);

/// What ErasePerson changed, by table.
struct Erasure {
  bool found = false;
  std::map<std::string, std::int64_t> rows;  // table -> rows deleted or scrubbed
};

/// Erases person `id`'s personal data on request (art. 47), in the caller's transaction:
/// identities, consents and the conversation are deleted; the name, the researcher's title,
/// keywords and bio, message bodies in the inbox and outbox (addresses there masked), proposals
/// and relayed messages they wrote are scrubbed; messages still waiting to go to them are
/// cancelled; a staff token linked to them is unlinked. The person row stays, empty and with role
/// 'unknown', so that records the programme must keep (needs, contracts, their documents,
/// transitions) keep their references; a researcher record is refused (no more matches).
/// Opt-outs stay in `suppressions`: honouring one needs the address. Recorded in the audit log
/// and as a transition.
[[nodiscard]] Erasure ErasePerson(Connection& conn, std::int64_t id, const std::string& actor, std::int64_t now_ms);

}  // namespace duijie::store
