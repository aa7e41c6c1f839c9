#include "dialogs/milestones.hpp"

#include <algorithm>
#include <map>

#include "store/person_data.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr int kSendHourLocal = 9;

bool Exists(store::Connection& c, const std::string& key) {
  auto& q = c.Prepare("SELECT 1 FROM broadcasts WHERE idempotency_key = ?");
  q.bind(1, key);
  const bool found = q.executeStep();
  q.reset();
  return found;
}

std::string SendAt(const WorkCalendar& calendar, Day today, Clock::TimePoint now) {
  const auto nine = calendar.StartOf(today) + std::chrono::hours(kSendHourLocal);
  return nine > now ? FormatUtc(nine) : std::string("now");
}

// Working days from `today` to `due`, `due` counted, `today` not.
int WorkingDaysLeft(const WorkCalendar& calendar, Day today, Day due) {
  int n = 0;
  for (Day d = today + std::chrono::days(1); d <= due; d += std::chrono::days(1)) n += calendar.IsWorkingDay(d) ? 1 : 0;
  return n;
}

// Who to tell that people still owe a milestone: bureau staff by the region of those people,
// unit administrators by their unit; each with how many of theirs.
std::map<std::int64_t, std::int64_t> Overseers(store::Connection& c, const AudienceSql& owing) {
  std::map<std::int64_t, std::int64_t> out;
  SQLite::Statement bureaus(
      c.Db(),
      "WITH owing AS (SELECT p.id, COALESCE((SELECT e.region FROM enterprises e WHERE e.contact_person_id = p.id "
      "LIMIT 1), (SELECT r.region FROM researchers r WHERE r.person_id = p.id)) AS region FROM people p WHERE " +
          owing.where +
          ") SELECT t.person_id, count(DISTINCT owing.id) FROM owing JOIN api_tokens t ON t.region = owing.region "
          "WHERE t.role = 'bureau_reviewer' AND t.revoked_at IS NULL AND t.person_id IS NOT NULL GROUP BY t.person_id");
  BindAudience(bureaus, owing);
  while (bureaus.executeStep()) out[bureaus.getColumn(0).getInt64()] += bureaus.getColumn(1).getInt64();
  SQLite::Statement units(c.Db(),
                          "WITH owing AS (SELECT p.id FROM people p WHERE " + owing.where +
                              ") SELECT u.admin_person_id, count(*) FROM owing JOIN researchers r ON r.person_id = "
                              "owing.id JOIN units u ON u.id = r.unit_id WHERE u.admin_person_id IS NOT NULL GROUP BY "
                              "u.admin_person_id");
  BindAudience(units, owing);
  while (units.executeStep()) out[units.getColumn(0).getInt64()] += units.getColumn(1).getInt64();
  return out;
}

// Needs that stayed in their stage past the programme's limit, per staff member who should
// hear of it: platform staff of every region, a bureau of its own; {person: {stage: count}}.
std::map<std::int64_t, std::map<std::string, std::int64_t>> StuckNeeds(store::Connection& c, const Programme& programme,
                                                                       std::int64_t now_ms) {
  std::map<std::int64_t, std::map<std::string, std::int64_t>> out;
  json limits = json::object();
  for (const auto& [stage, days] : programme.stage_limits_days) limits[stage] = days;
  if (limits.empty()) return out;
  auto& q = c.Prepare(
      "WITH stuck AS (SELECT n.stage, e.region FROM needs n JOIN enterprises e ON e.id = n.enterprise_id "
      "JOIN json_each(?) l ON l.key = n.stage WHERE COALESCE((SELECT max(t.at) FROM transitions t WHERE t.entity = "
      "'need' AND t.entity_id = n.id AND t.to_state = n.stage), n.updated_at) < ? - l.value * 86400000) "
      "SELECT t.person_id, s.stage, count(*) FROM stuck s JOIN api_tokens t ON t.revoked_at IS NULL AND t.person_id "
      "IS NOT NULL AND (t.role IN ('admin', 'platform_reviewer') OR (t.role = 'bureau_reviewer' AND t.region = "
      "s.region)) GROUP BY 1, 2");
  q.bind(1, limits.dump());
  q.bind(2, now_ms);
  while (q.executeStep()) out[q.getColumn(0).getInt64()][q.getColumn(1).getString()] += q.getColumn(2).getInt64();
  q.reset();
  return out;
}

}  // namespace

MilestoneRound RunMilestones(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                             const WorkCalendar& calendar, Clock::TimePoint now) {
  MilestoneRound round;
  const Staff system{"system", "admin", std::nullopt};
  const Day today = calendar.LocalDate(now);
  for (const auto& m : programme.milestones) {
    if (m.audience.empty()) continue;
    const auto due = ParseIsoDate(m.date);
    if (!due) continue;
    const std::string prefix = "milestone:" + programme.id + ":" + m.id + ":";
    const json vars = {{"milestone", m.name}, {"deadline", m.date}};
    if (today <= *due) {
      // The latest rung reached today or earlier (T-1 before T-3 before T-7).
      auto ladder = m.ladder;
      std::sort(ladder.begin(), ladder.end());
      for (const int k : ladder) {
        if (today < calendar.AddWorkingDays(*due, -k)) continue;
        const std::string key = prefix + "T-" + std::to_string(k);
        if (!calendar.IsWorkingDay(today) || Exists(c, key)) break;
        json with = vars;
        with["days_left"] = WorkingDaysLeft(calendar, today, *due);
        const json request = {{"title", m.name + " T-" + std::to_string(k)},
                              {"audience", m.audience},
                              {"template", "broadcast.milestone"},
                              {"vars", with},
                              {"ack", true},
                              {"send_at", SendAt(calendar, today, now)}};
        if (CreateBroadcast(c, programme, catalogue, system, request, key, now, "milestone")) ++round.reminders;
        break;
      }
      continue;
    }
    // Past the date: the escalation, on the first working day after it (or the next one the
    // gateway runs within three working days; later it would be news to nobody).
    if (!m.escalate || !calendar.IsWorkingDay(today) || today > calendar.AddWorkingDays(*due, 3)) continue;
    const std::string key = prefix + "escalation";
    if (Exists(c, key)) continue;
    auto owing = ParseAudience(m.audience, programme, system);
    if (!owing) continue;
    const auto overseers = Overseers(c, BuildAudienceSql(*owing, programme, today));
    if (overseers.empty()) continue;
    json people = json::array();
    for (const auto& [person, count] : overseers) people.push_back(person);
    const json request = {{"title", m.name + " escalation"},
                          {"audience", {{"people", people}}},
                          {"template", "broadcast.escalation"},
                          {"vars", vars},
                          {"send_at", SendAt(calendar, today, now)}};
    auto created = CreateBroadcast(c, programme, catalogue, system, request, key, now, "escalation");
    if (!created) continue;
    // Each overseer reads their own count: the recipients are written now, with it.
    const std::int64_t id = created->body["id"].get<std::int64_t>();
    auto& ins = c.Prepare(
        "INSERT OR IGNORE INTO broadcast_recipients (broadcast_id, person_id, status, vars, updated_at) VALUES (?, ?, "
        "'queued', ?, ?)");
    for (const auto& [person, count] : overseers) {
      ins.bind(1, id);
      ins.bind(2, person);
      ins.bind(3, json{{"count", count}}.dump());
      ins.bind(4, ToUnixMillis(now));
      ins.exec();
      ins.reset();
    }
    ++round.escalations;
  }
  // The daily digest of needs stuck in a stage, on working days.
  const std::string key = "stage_digest:" + programme.id + ":" + FormatIsoDate(today);
  if (calendar.IsWorkingDay(today) && !Exists(c, key)) {
    const auto stuck = StuckNeeds(c, programme, ToUnixMillis(now));
    if (!stuck.empty()) {
      json people = json::array();
      for (const auto& [person, stages] : stuck) people.push_back(person);
      const json request = {{"title", "stage digest " + FormatIsoDate(today)},
                            {"audience", {{"people", people}}},
                            {"template", "broadcast.stage_digest"},
                            {"send_at", SendAt(calendar, today, now)}};
      if (auto created = CreateBroadcast(c, programme, catalogue, system, request, key, now, "stage_digest")) {
        const std::int64_t id = created->body["id"].get<std::int64_t>();
        auto& ins = c.Prepare(
            "INSERT OR IGNORE INTO broadcast_recipients (broadcast_id, person_id, status, vars, updated_at) VALUES "
            "(?, ?, 'queued', ?, ?)");
        for (const auto& [person, stages] : stuck) {
          const std::string lang = store::PersonLocale(c, person, Catalogue::kDefaultLocale);
          std::string details;
          for (const auto& [stage, count] : stages) {
            details +=
                (details.empty() ? "" : "；") + catalogue.Text(lang, "broadcast.stage_digest.item",
                                                               {{"stage", catalogue.Text(lang, "stage." + stage)},
                                                                {"count", count},
                                                                {"days", programme.stage_limits_days.at(stage)}});
          }
          ins.bind(1, id);
          ins.bind(2, person);
          ins.bind(3, json{{"details", details}}.dump());
          ins.bind(4, ToUnixMillis(now));
          ins.exec();
          ins.reset();
        }
        ++round.stage_digests;
      }
    }
  }
  return round;
}

}  // namespace duijie::dialogs
