#include "bot/auth.hpp"

#include "common/digest.hpp"

namespace duijie::bot {

namespace {

// The person behind a WeCom userid of the operator's corp: theirs if they wrote before (an
// unknown person becomes staff), else a new staff member with that identity, verified by WeCom.
std::int64_t StaffPerson(store::Connection& c, const std::string& userid, const std::string& name,
                         std::int64_t now_ms) {
  auto& find = c.Prepare("SELECT person_id FROM identities WHERE kind = 'wecom_userid' AND address = :userid");
  find.bind(":userid", userid);
  std::optional<std::int64_t> person;
  if (find.executeStep()) person = find.getColumn(0).getInt64();
  find.reset();
  if (person) {
    auto& staff = c.Prepare(
        "UPDATE people SET role = 'staff', status = 'verified', display_name = COALESCE(display_name, :name), "
        "updated_at = :now WHERE id = :person AND role = 'unknown'");
    staff.bind(":name", name);
    staff.bind(":now", now_ms);
    staff.bind(":person", *person);
    staff.exec();
    return *person;
  }
  auto& ins = c.Prepare(
      "INSERT INTO people (display_name, role, status, created_at, updated_at) VALUES (:name, 'staff', 'verified', "
      ":now, :now)");
  ins.bind(":name", name);
  ins.bind(":now", now_ms);
  ins.exec();
  const std::int64_t id = c.Db().getLastInsertRowid();
  auto& identity = c.Prepare(
      "INSERT INTO identities (person_id, kind, address, status, verified_at, created_at) VALUES (:person, "
      "'wecom_userid', :userid, 'verified', :now, :now)");
  identity.bind(":person", id);
  identity.bind(":userid", userid);
  identity.bind(":now", now_ms);
  identity.exec();
  return id;
}

}  // namespace

Result<IssuedToken> Tokens::Create(store::Connection& c, const std::string& name, const std::string& role,
                                   const std::optional<std::string>& region, std::int64_t now_ms,
                                   const std::optional<std::string>& wecom_userid) {
  if (wecom_userid && (wecom_userid->empty() || wecom_userid->size() > 64)) {
    return Error(Errc::kInvalidArgument, "--wecom-userid: the member's userid in the operator's corp (1-64 bytes)");
  }
  if (name.empty()) return Error(Errc::kInvalidArgument, "a token needs a name");
  if (role != "admin" && role != "platform_reviewer" && role != "bureau_reviewer" && role != "viewer") {
    return Error(Errc::kInvalidArgument, "role must be admin, platform_reviewer, bureau_reviewer or viewer");
  }
  if ((role == "bureau_reviewer") != region.has_value()) {
    return Error(Errc::kInvalidArgument, "a bureau_reviewer token needs --region, and only it takes one");
  }
  auto& taken = c.Prepare("SELECT 1 FROM api_tokens WHERE name = :name AND revoked_at IS NULL");
  taken.bind(":name", name);
  const bool exists = taken.executeStep();
  taken.reset();
  if (exists) return Error(Errc::kConflict, "a live token named " + name + " exists; revoke it first");
  IssuedToken issued;
  issued.secret = "dj_" + RandomHex(32);
  auto& ins = c.Prepare(
      "INSERT INTO api_tokens (name, token_sha256, role, region, person_id, created_at) VALUES (:name, :hash, :role, "
      ":region, :person, :now)");
  ins.bind(":name", name);
  ins.bind(":hash", Sha256Hex(issued.secret));
  ins.bind(":role", role);
  if (region) {
    ins.bind(":region", *region);
  } else {
    ins.bind(":region");
  }
  if (wecom_userid) {
    ins.bind(":person", StaffPerson(c, *wecom_userid, name, now_ms));
  } else {
    ins.bind(":person");
  }
  ins.bind(":now", now_ms);
  ins.exec();
  issued.id = c.Db().getLastInsertRowid();
  return issued;
}

bool Tokens::Revoke(store::Connection& c, const std::string& name, std::int64_t now_ms) {
  auto& upd = c.Prepare("UPDATE api_tokens SET revoked_at = :now WHERE name = :name AND revoked_at IS NULL");
  upd.bind(":now", now_ms);
  upd.bind(":name", name);
  return upd.exec() > 0;
}

std::optional<dialogs::Staff> Tokens::Authenticate(store::Connection& c, std::string_view secret, std::int64_t now_ms) {
  if (secret.size() < 16 || secret.size() > 128) return std::nullopt;
  // Compared by hash: the lookup never sees the secret, and timing reveals nothing about it.
  auto& sel =
      c.Prepare("SELECT id, name, role, region FROM api_tokens WHERE token_sha256 = :hash AND revoked_at IS NULL");
  sel.bind(":hash", Sha256Hex(secret));
  if (!sel.executeStep()) {
    sel.reset();
    return std::nullopt;
  }
  const std::int64_t id = sel.getColumn(0).getInt64();
  dialogs::Staff staff{sel.getColumn(1).getString(), sel.getColumn(2).getString(), std::nullopt};
  if (!sel.getColumn(3).isNull()) staff.region = sel.getColumn(3).getString();
  sel.reset();
  auto& used = c.Prepare("UPDATE api_tokens SET last_used_at = :now WHERE id = :id");
  used.bind(":now", now_ms);
  used.bind(":id", id);
  used.exec();
  return staff;
}

std::vector<Tokens::Listed> Tokens::List(store::Connection& c) {
  std::vector<Listed> out;
  auto& sel =
      c.Prepare("SELECT id, name, role, COALESCE(region, ''), revoked_at IS NOT NULL FROM api_tokens ORDER BY id");
  while (sel.executeStep()) {
    out.push_back({sel.getColumn(0).getInt64(), sel.getColumn(1).getString(), sel.getColumn(2).getString(),
                   sel.getColumn(3).getString(), sel.getColumn(4).getInt() != 0});
  }
  sel.reset();
  return out;
}

}  // namespace duijie::bot
