#include "store/matching.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace duijie::store {
namespace {

// A JSON array of strings as stored in researchers.fields / keywords; anything else is empty.
std::vector<std::string> Strings(const std::string& text) {
  std::vector<std::string> out;
  const auto value = nlohmann::json::parse(text, nullptr, false);
  if (!value.is_array()) return out;
  for (const auto& item : value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string Text(const SQLite::Column& column) { return column.isNull() ? std::string() : column.getString(); }

// The columns Read* read, first in every query; callers may add more after them.
constexpr const char* kResearcherColumns = "SELECT person_id, fields, keywords, bio, region, eligibility";
constexpr const char* kResearcherFrom = " FROM researchers";
constexpr const char* kNeedColumns =
    "SELECT n.id, n.title, n.problem, n.targets, n.constraints_text, n.field, e.region";
constexpr const char* kNeedFrom = " FROM needs n LEFT JOIN enterprises e ON e.id = n.enterprise_id";

matcher::Researcher ReadResearcher(SQLite::Statement& row) {
  matcher::Researcher r;
  r.id = row.getColumn(0).getInt64();
  r.fields = Strings(Text(row.getColumn(1)));
  r.keywords = Strings(Text(row.getColumn(2)));
  r.bio = Text(row.getColumn(3));
  r.region = Text(row.getColumn(4));
  r.eligibility = Text(row.getColumn(5));
  return r;
}

matcher::Need ReadNeed(SQLite::Statement& row) {
  matcher::Need n;
  n.id = row.getColumn(0).getInt64();
  n.title = Text(row.getColumn(1));
  for (int c : {2, 3, 4}) {
    const std::string part = Text(row.getColumn(c));
    if (part.empty()) continue;
    if (!n.description.empty()) n.description += "\n";
    n.description += part;
  }
  n.field = Text(row.getColumn(5));
  n.region = Text(row.getColumn(6));
  return n;
}

}  // namespace

MatchingPool LoadMatchingPool(Connection& conn) {
  MatchingPool pool;
  auto& researchers =
      conn.Prepare(std::string(kResearcherColumns) + kResearcherFrom + " WHERE status <> 'refused' ORDER BY person_id");
  while (researchers.executeStep()) pool.researchers.push_back(ReadResearcher(researchers));
  auto& needs =
      conn.Prepare(std::string(kNeedColumns) + kNeedFrom + " WHERE n.stage IN " + kMatchableStages + " ORDER BY n.id");
  while (needs.executeStep()) pool.needs.push_back(ReadNeed(needs));
  conn.ResetStatements();
  return pool;
}

MatchingChanges LoadMatchingChanges(Connection& conn, std::int64_t since_ms) {
  MatchingChanges changes;
  changes.newest = since_ms;
  auto& researchers = conn.Prepare(std::string(kResearcherColumns) + ", status, updated_at" + kResearcherFrom +
                                   " WHERE updated_at >= ? ORDER BY person_id");
  researchers.bind(1, since_ms);
  while (researchers.executeStep()) {
    changes.newest = std::max(changes.newest, researchers.getColumn(7).getInt64());
    if (researchers.getColumn(6).getString() == "refused") {
      changes.removed_researchers.push_back(researchers.getColumn(0).getInt64());
    } else {
      changes.researchers.push_back(ReadResearcher(researchers));
    }
  }
  auto& needs = conn.Prepare(std::string(kNeedColumns) + ", n.stage IN " + kMatchableStages + ", n.updated_at" +
                             kNeedFrom + " WHERE n.updated_at >= ? ORDER BY n.id");
  needs.bind(1, since_ms);
  while (needs.executeStep()) {
    changes.newest = std::max(changes.newest, needs.getColumn(8).getInt64());
    if (needs.getColumn(7).getInt() != 0) {
      changes.needs.push_back(ReadNeed(needs));
    } else {
      changes.removed_needs.push_back(needs.getColumn(0).getInt64());
    }
  }
  conn.ResetStatements();
  return changes;
}

std::optional<matcher::Need> LoadNeed(Connection& conn, std::int64_t need_id) {
  auto& row = conn.Prepare(std::string(kNeedColumns) + kNeedFrom + " WHERE n.id = ?");
  row.bind(1, need_id);
  std::optional<matcher::Need> out;
  if (row.executeStep()) out = ReadNeed(row);
  row.reset();
  return out;
}

std::optional<matcher::Researcher> LoadResearcher(Connection& conn, std::int64_t person_id) {
  auto& row = conn.Prepare(std::string(kResearcherColumns) + kResearcherFrom + " WHERE person_id = ?");
  row.bind(1, person_id);
  std::optional<matcher::Researcher> out;
  if (row.executeStep()) out = ReadResearcher(row);
  row.reset();
  return out;
}

ResearcherLabel LabelResearcher(Connection& conn, std::int64_t person_id) {
  auto& row = conn.Prepare(
      "SELECT p.display_name, u.name, r.title FROM people p LEFT JOIN researchers r ON r.person_id = p.id "
      "LEFT JOIN units u ON u.id = r.unit_id WHERE p.id = ?");
  row.bind(1, person_id);
  ResearcherLabel label;
  if (row.executeStep()) {
    label.name = Text(row.getColumn(0));
    label.unit = Text(row.getColumn(1));
    label.title = Text(row.getColumn(2));
  }
  row.reset();
  return label;
}

std::map<std::int64_t, Standing> LoadStandings(Connection& conn, const std::string& field,
                                               const std::vector<std::int64_t>& researchers) {
  auto& row = conn.Prepare(
      "SELECT r.eligibility, r.capacity, "
      "(SELECT count(*) FROM pushes p WHERE p.researcher_person_id = r.person_id AND p.status IN "
      "('interested', 'shortlisted', 'talking', 'chosen')), "
      "(SELECT count(*) FROM pushes p JOIN needs n ON n.id = p.need_id WHERE p.researcher_person_id = r.person_id "
      "AND p.status = 'declined' AND p.decline_reason = 'not_my_field' AND n.field = :field) "
      "FROM researchers r WHERE r.person_id = :person");
  std::map<std::int64_t, Standing> out;
  for (const std::int64_t id : researchers) {
    row.bind(":field", field);
    row.bind(":person", id);
    if (row.executeStep()) {
      out[id] = Standing{Text(row.getColumn(0)), row.getColumn(1).getInt(), row.getColumn(2).getInt(),
                         row.getColumn(3).getInt()};
    }
    row.reset();
  }
  return out;
}

std::map<std::int64_t, int> PushesSince(Connection& conn, std::int64_t since_ms) {
  auto& rows = conn.Prepare(
      "SELECT researcher_person_id, count(*) FROM pushes WHERE created_at > ? AND status <> 'planned' "
      "GROUP BY researcher_person_id");
  rows.bind(1, since_ms);
  std::map<std::int64_t, int> out;
  while (rows.executeStep()) out[rows.getColumn(0).getInt64()] = rows.getColumn(1).getInt();
  rows.reset();
  return out;
}

}  // namespace duijie::store
