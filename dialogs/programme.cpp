#include "dialogs/programme.hpp"

#include <regex>
#include <set>
#include <stdexcept>

#include "dialogs/catalogue_embedded.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

Error Invalid(const std::string& programme, const std::string& what) {
  return Error(Errc::kInvalidArgument, "programme " + programme + ": " + what);
}

Result<std::vector<Choice>> Choices(const json& list, const std::string& programme, const std::string& what) {
  if (!list.is_array() || list.empty()) return Invalid(programme, what + " must be a non-empty list");
  std::vector<Choice> out;
  std::set<std::string> seen;
  for (const auto& item : list) {
    Choice c;
    c.id = item.value("id", "");
    c.name = item.value("name", "");
    if (c.id.empty() || c.name.empty()) return Invalid(programme, what + ": every entry needs an id and a name");
    if (!seen.insert(c.id).second) return Invalid(programme, what + ": id \"" + c.id + "\" is used twice");
    c.aliases = item.value("aliases", std::vector<std::string>{});
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::vector<Choice> Programme::EligibilityChoices() const {
  std::vector<Choice> out;
  out.reserve(eligibility.size());
  for (const auto& e : eligibility) out.push_back(e.choice);
  return out;
}

const EligibilityType* Programme::FindEligibility(std::string_view type) const {
  for (const auto& e : eligibility) {
    if (e.choice.id == type) return &e;
  }
  return nullptr;
}

Result<Programme> Programme::FromJson(const json& doc) {
  Programme p;
  if (!doc.is_object()) return Invalid("?", "expected an object");
  p.id = doc.value("id", "");
  if (p.id.empty()) return Invalid("?", "id is missing");
  p.name = doc.value("name", "");
  p.source = doc.value("source", "");
  const json need = doc.value("need", json::object());
  p.minimum_amount_wan = need.value("minimum_amount_wan", 0.0);
  if (p.minimum_amount_wan < 0) return Invalid(p.id, "need.minimum_amount_wan must not be negative");
  auto categories = Choices(need.value("categories", json()), p.id, "need.categories");
  if (!categories) return categories.error();
  p.categories = std::move(*categories);
  auto fields = Choices(doc.value("fields", json()), p.id, "fields");
  if (!fields) return fields.error();
  p.fields = std::move(*fields);
  auto regions = Choices(doc.value("regions", json()), p.id, "regions");
  if (!regions) return regions.error();
  p.regions = std::move(*regions);
  const json researcher = doc.value("researcher", json::object());
  p.max_fields = researcher.value("max_fields", 3);
  if (p.max_fields < 1) return Invalid(p.id, "researcher.max_fields must be at least 1");
  const json eligibility = researcher.value("eligibility", json());
  auto types = Choices(eligibility, p.id, "researcher.eligibility");
  if (!types) return types.error();
  for (std::size_t i = 0; i < types->size(); ++i) {
    EligibilityType e{(*types)[i], eligibility[i].value("eligible", true), eligibility[i].value("rule", "")};
    if (!e.eligible && e.rule.empty()) return Invalid(p.id, "ineligible type " + e.choice.id + " needs its rule");
    p.eligibility.push_back(std::move(e));
  }
  static const std::set<std::string> kRoles = {"bureau_reviewer", "platform_reviewer", "admin"};
  const json chain = doc.value("review_chain", json());
  if (!chain.is_array() || chain.empty()) return Invalid(p.id, "review_chain must be a non-empty list");
  for (const auto& s : chain) {
    ReviewStage stage{s.value("stage", ""), s.value("role", ""), s.value("name", ""), s.value("recommendation", false)};
    if (stage.stage.empty() || !kRoles.contains(stage.role)) {
      return Invalid(p.id,
                     "review_chain: every stage needs a stage name and a role of bureau_reviewer, "
                     "platform_reviewer or admin");
    }
    p.review_chain.push_back(std::move(stage));
  }
  static const std::regex kDate(R"(^\d{4}-\d{2}-\d{2}$)");
  for (const auto& m : doc.value("milestones", json::array())) {
    Milestone milestone{m.value("id", ""), m.value("date", ""), m.value("name", "")};
    if (milestone.id.empty() || !std::regex_match(milestone.date, kDate)) {
      return Invalid(p.id, "milestones: every entry needs an id and a YYYY-MM-DD date");
    }
    if (m.contains("audience")) {
      if (!m["audience"].is_object()) return Invalid(p.id, "milestones: " + milestone.id + ": audience is an object");
      milestone.audience = m["audience"];
    }
    if (m.contains("ladder")) {
      const auto& l = m["ladder"];
      milestone.ladder.clear();
      if (!l.is_array() || l.empty()) {
        return Invalid(p.id, "milestones: " + milestone.id + ": ladder is a list of working days before the date");
      }
      for (const auto& d : l) {
        if (!d.is_number_integer() || d.get<int>() < 1 || d.get<int>() > 60) {
          return Invalid(p.id, "milestones: " + milestone.id + ": ladder entries are 1 to 60 working days");
        }
        milestone.ladder.push_back(d.get<int>());
      }
    }
    milestone.escalate = m.value("escalate", true);
    p.milestones.push_back(std::move(milestone));
  }
  if (doc.contains("stage_limits_days")) {
    const auto& limits = doc["stage_limits_days"];
    if (!limits.is_object()) return Invalid(p.id, "stage_limits_days: an object of stage: days");
    static const std::set<std::string> kOpen = {"submitted", "recommended", "published", "returned",   "matching",
                                                "proposals", "shortlisted", "in_talks",  "contracted", "evidenced"};
    for (const auto& [stage, days] : limits.items()) {
      if (!kOpen.contains(stage)) return Invalid(p.id, "stage_limits_days: '" + stage + "' is not an open need stage");
      if (!days.is_number_integer() || days.get<int>() < 1 || days.get<int>() > 365) {
        return Invalid(p.id, "stage_limits_days: " + stage + ": 1 to 365 days");
      }
      p.stage_limits_days[stage] = days.get<int>();
    }
  }
  p.raw = doc;
  return p;
}

const std::map<std::string, Programme>& Programme::Embedded() {
  static const std::map<std::string, Programme> kProgrammes = [] {
    std::map<std::string, Programme> out;
    for (const auto& [name, text] : EmbeddedProgrammeFiles()) {
      auto p = FromJson(json::parse(text));
      // The files are checked by a unit test; a broken one here is a build defect.
      if (!p) throw std::logic_error(p.error().message);
      if (p->id != name) throw std::logic_error("programme file " + name + " declares id " + p->id);
      out.emplace(p->id, std::move(*p));
    }
    return out;
  }();
  return kProgrammes;
}

}  // namespace duijie::dialogs
