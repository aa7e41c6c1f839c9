#include "dialogs/audiences.hpp"

#include <algorithm>
#include <set>

#include "common/mask.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

struct StageSql {
  const char* name;
  const char* meaning;
  const char* sql;  // a condition on person p
};

// The open stages of a need (DESIGN.md §2a) in which a contract is still to come.
#define DUIJIE_NEED_OPEN "('published', 'matching', 'proposals', 'shortlisted', 'in_talks')"

constexpr StageSql kStages[] = {
    {"no_need", "enterprise contacts of verified enterprises that have submitted no need",
     "EXISTS (SELECT 1 FROM enterprises e WHERE e.contact_person_id = p.id AND e.status = 'verified' AND NOT EXISTS "
     "(SELECT 1 FROM needs n WHERE n.enterprise_id = e.id AND n.stage NOT IN ('draft', 'withdrawn')))"},
    {"need_returned", "enterprise contacts with a need returned for changes",
     "EXISTS (SELECT 1 FROM enterprises e JOIN needs n ON n.enterprise_id = e.id WHERE e.contact_person_id = p.id "
     "AND n.stage = 'returned')"},
    {"published_no_contract", "enterprise contacts with a published need and no contract yet",
     "EXISTS (SELECT 1 FROM enterprises e JOIN needs n ON n.enterprise_id = e.id WHERE e.contact_person_id = p.id "
     "AND n.stage IN " DUIJIE_NEED_OPEN " AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.need_id = n.id))"},
    {"shortlisted_no_contract", "enterprise contacts who shortlisted a researcher but have no contract yet",
     "EXISTS (SELECT 1 FROM enterprises e JOIN needs n ON n.enterprise_id = e.id WHERE e.contact_person_id = p.id "
     "AND n.stage IN ('shortlisted', 'in_talks') AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.need_id = n.id))"},
    {"contract_no_evidence", "enterprise contacts with a recorded contract whose evidence is not complete",
     "EXISTS (SELECT 1 FROM enterprises e JOIN needs n ON n.enterprise_id = e.id JOIN contracts k ON k.need_id = n.id "
     "WHERE e.contact_person_id = p.id AND k.status = 'recorded')"},
    {"report_not_filed", "enterprise contacts with a contracted need whose summary report is not filed",
     "EXISTS (SELECT 1 FROM enterprises e JOIN needs n ON n.enterprise_id = e.id WHERE e.contact_person_id = p.id "
     "AND n.stage IN ('contracted', 'evidenced'))"},
    {"push_unanswered", "researchers with a match push they have not answered",
     "EXISTS (SELECT 1 FROM pushes pu WHERE pu.researcher_person_id = p.id AND pu.status = 'sent')"},
    {"interested_no_proposal", "researchers who answered 1 (interested) but sent no proposal",
     "EXISTS (SELECT 1 FROM pushes pu WHERE pu.researcher_person_id = p.id AND pu.status = 'interested' AND NOT EXISTS "
     "(SELECT 1 FROM proposals pr WHERE pr.push_id = pu.id))"},
};

#undef DUIJIE_NEED_OPEN

const StageSql* FindStage(std::string_view name) {
  for (const auto& s : kStages) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

Error InvalidAudience(std::string message) { return {Errc::kInvalidArgument, "audience: " + std::move(message)}; }

Result<std::vector<std::string>> Strings(const json& doc, const char* key, const std::set<std::string>& allowed,
                                         const std::string& allowed_text) {
  std::vector<std::string> out;
  if (!doc.contains(key)) return out;
  const auto& v = doc[key];
  if (!v.is_array() || v.size() > 200) return InvalidAudience(std::string(key) + ": a list of at most 200 ids");
  for (const auto& item : v) {
    if (!item.is_string()) return InvalidAudience(std::string(key) + ": " + item.dump() + " is not a string");
    const auto s = item.get<std::string>();
    if (!allowed.contains(s)) return InvalidAudience(std::string(key) + ": '" + s + "' is not one of " + allowed_text);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

Result<std::vector<std::int64_t>> Ids(const json& doc, const char* key, std::size_t max) {
  std::vector<std::int64_t> out;
  if (!doc.contains(key)) return out;
  const auto& v = doc[key];
  if (!v.is_array() || v.size() > max) {
    return InvalidAudience(std::string(key) + ": a list of at most " + std::to_string(max) + " ids");
  }
  out.reserve(v.size());
  for (const auto& item : v) {
    if (!item.is_number_integer() || item.get<std::int64_t>() <= 0) {
      return InvalidAudience(std::string(key) + ": " + item.dump() + " is not an id");
    }
    out.push_back(item.get<std::int64_t>());
  }
  return out;
}

std::set<std::string> IdsOf(const std::vector<Choice>& list) {
  std::set<std::string> out;
  for (const auto& c : list) out.insert(c.id);
  return out;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

void In(AudienceSql& q, const std::string& expr, const std::vector<std::string>& values) {
  q.where += " AND " + expr + " IN (";
  for (std::size_t i = 0; i < values.size(); ++i) {
    q.where += i == 0 ? "?" : ", ?";
    q.binds.emplace_back(values[i]);
  }
  q.where += ")";
}

}  // namespace

void BindAudience(SQLite::Statement& s, const AudienceSql& q, int first) {
  int i = first;
  for (const auto& b : q.binds) {
    if (const auto* n = std::get_if<std::int64_t>(&b)) {
      s.bind(i++, *n);
    } else {
      s.bind(i++, std::get<std::string>(b));
    }
  }
}

const std::vector<std::pair<std::string, std::string>>& AudienceStages() {
  static const std::vector<std::pair<std::string, std::string>> kList = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : kStages) out.emplace_back(s.name, s.meaning);
    return out;
  }();
  return kList;
}

Result<Audience> ParseAudience(const json& doc, const Programme& programme, const Staff& staff) {
  if (!doc.is_object()) return InvalidAudience("expected a JSON object of conditions");
  static const std::set<std::string> kKeys = {"roles", "regions", "fields",    "units",          "statuses",
                                              "stage", "people",  "milestone", "due_within_days"};
  for (const auto& [key, value] : doc.items()) {
    if (!kKeys.contains(key)) return InvalidAudience("'" + key + "' is not a condition; use " + Join(kKeys));
  }
  Audience a;
  static const std::set<std::string> kRoles = {"enterprise_contact", "researcher", "staff"};
  static const std::set<std::string> kStatuses = {"onboarding", "pending", "verified", "refused"};
  auto roles = Strings(doc, "roles", kRoles, Join(kRoles));
  if (!roles) return roles.error();
  a.roles = std::move(*roles);
  const auto regions_allowed = IdsOf(programme.regions);
  auto regions = Strings(doc, "regions", regions_allowed, "the programme's region ids");
  if (!regions) return regions.error();
  a.regions = std::move(*regions);
  auto fields = Strings(doc, "fields", IdsOf(programme.fields), "the programme's field ids");
  if (!fields) return fields.error();
  a.fields = std::move(*fields);
  auto statuses = Strings(doc, "statuses", kStatuses, Join(kStatuses));
  if (!statuses) return statuses.error();
  a.statuses = std::move(*statuses);
  auto units = Ids(doc, "units", 200);
  if (!units) return units.error();
  a.units = std::move(*units);
  auto people = Ids(doc, "people", 10000);
  if (!people) return people.error();
  a.people = std::move(*people);
  if (doc.contains("stage")) {
    if (!doc["stage"].is_string() || FindStage(doc["stage"].get<std::string>()) == nullptr) {
      std::string names;
      for (const auto& s : kStages) names += (names.empty() ? "" : ", ") + std::string(s.name);
      return InvalidAudience("stage: " + doc["stage"].dump() + " is not one of " + names);
    }
    a.stage = doc["stage"].get<std::string>();
  }
  if (doc.contains("milestone") != doc.contains("due_within_days")) {
    return InvalidAudience("milestone and due_within_days go together");
  }
  if (doc.contains("milestone")) {
    const auto& m = doc["milestone"];
    const bool known = m.is_string() && std::any_of(programme.milestones.begin(), programme.milestones.end(),
                                                    [&m](const Milestone& x) { return x.id == m.get<std::string>(); });
    if (!known) return InvalidAudience("milestone: " + m.dump() + " is not a milestone of the programme");
    const auto& d = doc["due_within_days"];
    if (!d.is_number_integer() || d.get<int>() < 0 || d.get<int>() > 366) {
      return InvalidAudience("due_within_days: a number of days from 0 to 366");
    }
    a.milestone = m.get<std::string>();
    a.due_within_days = d.get<int>();
  }
  // A bureau reviewer speaks to its own region only.
  if (staff.role == "bureau_reviewer") {
    const std::string own = staff.region.value_or("");
    for (const auto& r : a.regions) {
      if (r != own) return Error(Errc::kPermissionDenied, "audience: region '" + r + "' is outside your region");
    }
    a.regions = {own};
  }
  return a;
}

json ToJson(const Audience& a) {
  json out = json::object();
  if (!a.roles.empty()) out["roles"] = a.roles;
  if (!a.regions.empty()) out["regions"] = a.regions;
  if (!a.fields.empty()) out["fields"] = a.fields;
  if (!a.units.empty()) out["units"] = a.units;
  if (!a.statuses.empty()) out["statuses"] = a.statuses;
  if (a.stage) out["stage"] = *a.stage;
  if (!a.people.empty()) out["people"] = a.people;
  if (a.milestone) {
    out["milestone"] = *a.milestone;
    out["due_within_days"] = a.due_within_days.value_or(0);
  }
  return out;
}

AudienceSql BuildAudienceSql(const Audience& a, const Programme& programme, Day today) {
  AudienceSql q;
  q.where = "p.role <> 'unknown'";
  if (!a.roles.empty()) In(q, "p.role", a.roles);
  if (!a.statuses.empty()) In(q, "p.status", a.statuses);
  if (!a.regions.empty()) {
    // A person's region: their enterprise's, their own as a researcher, their token's as staff.
    q.where +=
        " AND (EXISTS (SELECT 1 FROM enterprises e WHERE e.contact_person_id = p.id AND e.region IN (SELECT value FROM "
        "json_each(?))) OR EXISTS (SELECT 1 FROM researchers r WHERE r.person_id = p.id AND r.region IN (SELECT value "
        "FROM json_each(?))) OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.person_id = p.id AND t.revoked_at IS NULL "
        "AND t.region IN (SELECT value FROM json_each(?))))";
    const std::string list = json(a.regions).dump();
    for (int i = 0; i < 3; ++i) q.binds.emplace_back(list);
  }
  if (!a.fields.empty()) {
    q.where +=
        " AND (EXISTS (SELECT 1 FROM enterprises e WHERE e.contact_person_id = p.id AND e.industry IN (SELECT value "
        "FROM "
        "json_each(?))) OR EXISTS (SELECT 1 FROM researchers r, json_each(r.fields) f WHERE r.person_id = p.id AND "
        "f.value IN (SELECT value FROM json_each(?))))";
    const std::string list = json(a.fields).dump();
    q.binds.emplace_back(list);
    q.binds.emplace_back(list);
  }
  if (!a.units.empty()) {
    q.where +=
        " AND EXISTS (SELECT 1 FROM researchers r WHERE r.person_id = p.id AND r.unit_id IN (SELECT value FROM "
        "json_each(?)))";
    q.binds.emplace_back(json(a.units).dump());
  }
  if (!a.people.empty()) {
    q.where += " AND p.id IN (SELECT value FROM json_each(?))";
    q.binds.emplace_back(json(a.people).dump());
  }
  if (a.stage) q.where += std::string(" AND ") + FindStage(*a.stage)->sql;
  if (a.milestone) {
    bool within = false;
    for (const auto& m : programme.milestones) {
      if (m.id != *a.milestone) continue;
      const auto due = ParseIsoDate(m.date);
      within = due && *due >= today && (*due - today).count() <= a.due_within_days.value_or(0);
    }
    if (!within) q.where += " AND 0";
  }
  return q;
}

std::int64_t CountAudience(store::Connection& c, const Audience& a, const Programme& programme, Day today) {
  const auto q = BuildAudienceSql(a, programme, today);
  SQLite::Statement s(c.Db(), "SELECT count(*) FROM people p WHERE " + q.where);
  BindAudience(s, q);
  s.executeStep();
  return s.getColumn(0).getInt64();
}

json PreviewAudience(store::Connection& c, const Audience& a, const Programme& programme, Day today, int sample) {
  const auto q = BuildAudienceSql(a, programme, today);
  SQLite::Statement s(
      c.Db(),
      "SELECT p.id, COALESCE(p.display_name, ''), p.role, p.status, COALESCE((SELECT e.region FROM enterprises e WHERE "
      "e.contact_person_id = p.id LIMIT 1), (SELECT r.region FROM researchers r WHERE r.person_id = p.id), '') "
      "FROM people p WHERE " +
          q.where + " ORDER BY p.id LIMIT ?");
  BindAudience(s, q);
  s.bind(static_cast<int>(q.binds.size()) + 1, sample);
  json list = json::array();
  auto& ids = c.Prepare("SELECT kind, address FROM identities WHERE person_id = ? ORDER BY id");
  while (s.executeStep()) {
    const std::int64_t id = s.getColumn(0).getInt64();
    json reach = json::array();
    ids.bind(1, id);
    while (ids.executeStep()) {
      const std::string kind = ids.getColumn(0).getString();
      const std::string address = ids.getColumn(1).getString();
      reach.push_back({{"kind", kind}, {"address", MaskAddress(address)}});
    }
    ids.reset();
    list.push_back({{"person_id", id},
                    {"name", s.getColumn(1).getString()},
                    {"role", s.getColumn(2).getString()},
                    {"status", s.getColumn(3).getString()},
                    {"region", s.getColumn(4).getString()},
                    {"reach", std::move(reach)}});
  }
  return {{"count", CountAudience(c, a, programme, today)}, {"sample", std::move(list)}, {"audience", ToJson(a)}};
}

Result<json> SaveAudience(store::Connection& c, const Staff& staff, const std::string& name, const Audience& a,
                          Clock::TimePoint now) {
  if (name.empty() || name.size() > 200) return InvalidAudience("name: 1 to 200 bytes");
  auto& ins = c.Prepare(
      "INSERT INTO audiences (name, filter, created_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING");
  ins.bind(1, name);
  ins.bind(2, ToJson(a).dump());
  ins.bind(3, staff.name);
  ins.bind(4, ToUnixMillis(now));
  const bool added = ins.exec() == 1;
  ins.reset();
  if (!added) return Error(Errc::kConflict, "audience: the name '" + name + "' is taken");
  const std::int64_t id = c.Db().getLastInsertRowid();
  return json{{"id", id}, {"name", name}, {"audience", ToJson(a)}};
}

json ListAudiences(store::Connection& c) {
  auto& q = c.Prepare("SELECT id, name, filter, COALESCE(created_by, ''), created_at FROM audiences ORDER BY id");
  json out = json::array();
  while (q.executeStep()) {
    out.push_back({{"id", q.getColumn(0).getInt64()},
                   {"name", q.getColumn(1).getString()},
                   {"audience", json::parse(q.getColumn(2).getString(), nullptr, false)},
                   {"created_by", q.getColumn(3).getString()},
                   {"created_at", q.getColumn(4).getInt64()}});
  }
  q.reset();
  return out;
}

std::optional<json> FindSavedAudience(store::Connection& c, std::int64_t id) {
  auto& q = c.Prepare("SELECT filter FROM audiences WHERE id = ?");
  q.bind(1, id);
  std::optional<json> out;
  if (q.executeStep()) out = json::parse(q.getColumn(0).getString(), nullptr, false);
  q.reset();
  return out;
}

}  // namespace duijie::dialogs
