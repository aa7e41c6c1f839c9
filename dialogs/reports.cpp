#include "dialogs/reports.hpp"

#include <algorithm>
#include <map>

namespace duijie::dialogs {
namespace {

using nlohmann::json;

// The lifecycle's main road (DESIGN.md §2a), in order: conversion is counted along it.
constexpr const char* kRoad[] = {"submitted",   "recommended", "published",  "matching",  "proposals",
                                 "shortlisted", "in_talks",    "contracted", "evidenced", "reported"};

// A bureau reviewer sees its region only; everyone else every region.
std::string RegionScope(const Staff& staff) {
  return staff.role == "bureau_reviewer" ? staff.region.value_or("") : std::string();
}

}  // namespace

std::vector<NeedListRow> NeedList(store::Connection& c, const Programme& programme, const Staff& staff,
                                  const std::vector<std::string>& stages) {
  static const std::vector<std::string> kListed = {"published",  "matching",  "proposals", "shortlisted", "in_talks",
                                                   "contracted", "evidenced", "reported",  "evaluated"};
  const json wanted = stages.empty() ? kListed : stages;
  const std::string region = RegionScope(staff);
  auto& q = c.Prepare(
      "SELECT n.id, n.title, e.name, e.region, COALESCE(n.field, e.industry), COALESCE(n.category, ''), n.amount_wan, "
      "COALESCE(n.deadline, ''), n.stage, n.problem, n.targets FROM needs n JOIN enterprises e ON e.id = "
      "n.enterprise_id "
      "WHERE n.stage IN (SELECT value FROM json_each(?)) AND (? = '' OR e.region = ?) ORDER BY n.id");
  q.bind(1, wanted.dump());
  q.bind(2, region);
  q.bind(3, region);
  std::vector<NeedListRow> out;
  std::vector<std::string> field_ids;
  while (q.executeStep()) {
    NeedListRow r;
    r.id = q.getColumn(0).getInt64();
    r.title = q.getColumn(1).getString();
    r.enterprise = q.getColumn(2).getString();
    r.region = ChoiceName(programme.regions, q.getColumn(3).getString());
    field_ids.push_back(q.getColumn(4).getString());
    r.industry = ChoiceName(programme.fields, field_ids.back());
    r.category = ChoiceName(programme.categories, q.getColumn(5).getString());
    if (!q.getColumn(6).isNull()) r.amount_wan = q.getColumn(6).getDouble();
    r.deadline = q.getColumn(7).getString();
    r.stage = q.getColumn(8).getString();
    r.problem = q.getColumn(9).getString();
    r.targets = q.getColumn(10).getString();
    out.push_back(std::move(r));
  }
  q.reset();
  // By industry in the programme's own order of fields, then by id.
  const auto rank = [&programme](const std::string& name) {
    for (std::size_t i = 0; i < programme.fields.size(); ++i) {
      if (programme.fields[i].name == name) return i;
    }
    return programme.fields.size();
  };
  std::stable_sort(out.begin(), out.end(),
                   [&rank](const NeedListRow& a, const NeedListRow& b) { return rank(a.industry) < rank(b.industry); });
  return out;
}

json Funnel(store::Connection& c, const Programme& programme, const Staff& staff) {
  const std::string region = RegionScope(staff);
  json out = {{"scope", region.empty() ? json("all") : json(region)}};
  // Needs now, by stage, and by region and field.
  json by_stage = json::object();
  json by_region = json::object();
  json by_field = json::object();
  auto& now = c.Prepare(
      "SELECT n.stage, e.region, COALESCE(n.field, e.industry), count(*) FROM needs n JOIN enterprises e ON e.id = "
      "n.enterprise_id WHERE (? = '' OR e.region = ?) GROUP BY 1, 2, 3");
  now.bind(1, region);
  now.bind(2, region);
  while (now.executeStep()) {
    const std::string stage = now.getColumn(0).getString();
    const std::string reg = ChoiceName(programme.regions, now.getColumn(1).getString());
    const std::string field = ChoiceName(programme.fields, now.getColumn(2).getString());
    const std::int64_t n = now.getColumn(3).getInt64();
    const auto add = [n, &stage](json& counts) {
      if (!counts.is_object()) counts = json::object();
      counts[stage] = counts.value(stage, std::int64_t{0}) + n;
    };
    add(by_stage);
    add(by_region[reg]);
    add(by_field[field]);
  }
  now.reset();
  out["needs"] = {{"by_stage", by_stage}, {"by_region", by_region}, {"by_field", by_field}};

  // When each need first reached each stage of the road (transitions are the record).
  std::map<std::int64_t, std::map<std::string, std::int64_t>> reached;
  auto& tr = c.Prepare(
      "SELECT t.entity_id, t.to_state, min(t.at) FROM transitions t JOIN needs n ON n.id = t.entity_id JOIN "
      "enterprises e ON e.id = n.enterprise_id WHERE t.entity = 'need' AND (? = '' OR e.region = ?) GROUP BY 1, 2");
  tr.bind(1, region);
  tr.bind(2, region);
  while (tr.executeStep())
    reached[tr.getColumn(0).getInt64()][tr.getColumn(1).getString()] = tr.getColumn(2).getInt64();
  tr.reset();
  json steps = json::array();
  for (std::size_t i = 0; i + 1 < std::size(kRoad); ++i) {
    const std::string from = kRoad[i];
    // The next stage this need reached after `from` along the road (a need may skip one:
    // a programme without bureau review goes submitted → published).
    std::int64_t entered = 0;
    std::int64_t moved_on = 0;
    std::vector<double> hours;
    for (const auto& [need, at] : reached) {
      const auto a = at.find(from);
      if (a == at.end()) continue;
      ++entered;
      for (std::size_t j = i + 1; j < std::size(kRoad); ++j) {
        const auto b = at.find(kRoad[j]);
        if (b == at.end()) continue;
        if (j == i + 1) {
          ++moved_on;
          hours.push_back(static_cast<double>(b->second - a->second) / 3.6e6);
        }
        break;
      }
    }
    json step = {{"from", from}, {"to", kRoad[i + 1]}, {"entered", entered}, {"moved_on", moved_on}};
    step["conversion"] =
        entered > 0 ? json(static_cast<double>(moved_on) / static_cast<double>(entered)) : json(nullptr);
    if (hours.empty()) {
      step["median_hours"] = nullptr;
    } else {
      std::sort(hours.begin(), hours.end());
      const std::size_t mid = hours.size() / 2;
      step["median_hours"] = hours.size() % 2 == 1 ? hours[mid] : (hours[mid - 1] + hours[mid]) / 2;
    }
    steps.push_back(std::move(step));
  }
  out["steps"] = std::move(steps);

  json pushes = json::object();
  auto& p = c.Prepare(
      "SELECT pu.status, count(*) FROM pushes pu JOIN needs n ON n.id = pu.need_id JOIN enterprises e ON e.id = "
      "n.enterprise_id WHERE (? = '' OR e.region = ?) GROUP BY 1");
  p.bind(1, region);
  p.bind(2, region);
  while (p.executeStep()) pushes[p.getColumn(0).getString()] = p.getColumn(1).getInt64();
  p.reset();
  out["pushes"] = pushes;
  if (region.empty()) {
    json people = json::object();
    auto& q = c.Prepare("SELECT role, status, count(*) FROM people WHERE role <> 'unknown' GROUP BY 1, 2");
    while (q.executeStep()) people[q.getColumn(0).getString()][q.getColumn(1).getString()] = q.getColumn(2).getInt64();
    q.reset();
    out["people"] = people;
  }
  return out;
}

}  // namespace duijie::dialogs
