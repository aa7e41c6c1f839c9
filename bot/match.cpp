#include "bot/match.hpp"

#include <chrono>
#include <iomanip>
#include <sstream>

#include <SQLiteCpp/Exception.h>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/push_plan.hpp"
#include "matcher/matcher.hpp"
#include "store/matching.hpp"
#include "store/migrations.hpp"

namespace duijie::bot {
namespace {

constexpr std::int64_t kWeekMillis = 7LL * 24 * 3600 * 1000;

// A programme field id as its name ("materials" → 新材料); unknown ids as they are.
std::string FieldName(const dialogs::Programme* programme, const std::string& id) {
  if (programme != nullptr) {
    for (const auto& f : programme->fields) {
      if (f.id == id) return f.name;
    }
  }
  return id;
}

std::string JoinTerms(const std::vector<std::string>& terms) {
  std::string out;
  for (const auto& t : terms) out += (out.empty() ? "" : "、") + t;
  return out;
}

}  // namespace

matcher::AnalyzerOptions AnalyzerFromConfig(const MatcherConfig& config) {
  matcher::AnalyzerOptions options;
  if (!config.opencc_config.empty()) options.to_simplified = matcher::MakeOpenccConverter(config.opencc_config);
  return options;
}

int RunMatch(const Config& config, const MatchCommand& command, std::ostream& out, std::ostream& err) {
  try {
    store::Connection conn(config.store.path, {});
    if (const auto migrated = store::Migrate(conn); !migrated) {
      err << "duijie match: " << migrated.error().message << "\n";
      return 1;
    }
    const auto programmes = dialogs::Programme::Embedded();
    const auto found = programmes.find(config.programme.id);
    const dialogs::Programme* programme = found == programmes.end() ? nullptr : &found->second;

    matcher::Matcher matcher(matcher::Analyzer(AnalyzerFromConfig(config.matcher)));
    const store::MatchingPool pool = store::LoadMatchingPool(conn);
    for (const auto& r : pool.researchers) matcher.Upsert(r);
    for (const auto& n : pool.needs) matcher.Upsert(n);
    const auto limit = static_cast<std::size_t>(command.limit);

    std::vector<matcher::Match> matches;
    std::vector<std::int64_t> planned;
    if (command.side == "need") {
      const auto need = store::LoadNeed(conn, command.id);
      if (!need) {
        err << "duijie match: no need " << command.id << "\n";
        return 1;
      }
      // More than asked for, so that leaving out the ineligible and those at capacity still
      // fills the list.
      auto candidates = matcher.ResearchersFor(*need, 3 * limit + 10);
      std::vector<std::int64_t> ids;
      ids.reserve(candidates.size());
      for (const auto& m : candidates) ids.push_back(m.id);
      const auto standings = store::LoadStandings(conn, need->field, ids);
      if (programme != nullptr) {
        matches = dialogs::Shortlist(std::move(candidates), standings, *programme, limit);
      } else {
        matches = std::move(candidates);
        if (matches.size() > limit) matches.resize(limit);
      }
      if (!command.json) {
        out << "need " << need->id << " 「" << need->title << "」 field " << FieldName(programme, need->field)
            << ", region " << (need->region.empty() ? "-" : need->region) << "; pool: " << pool.researchers.size()
            << " researchers, " << pool.needs.size() << " open needs\n";
      }
      if (command.plan) {
        const auto now = ToUnixMillis(SystemClock().Now());
        const auto recent = store::PushesSince(conn, now - kWeekMillis);
        const dialogs::PushPolicy policy{config.matcher.pushes_per_week, config.matcher.pushes_per_need_min,
                                         config.matcher.pushes_per_need_max, config.matcher.score_floor};
        planned = dialogs::PlanPushes(matches, policy, [&recent](std::int64_t id) {
          const auto it = recent.find(id);
          return it == recent.end() ? 0 : it->second;
        });
      }
    } else {
      const auto researcher = store::LoadResearcher(conn, command.id);
      if (!researcher) {
        err << "duijie match: no researcher with person id " << command.id << "\n";
        return 1;
      }
      matches = matcher.NeedsFor(*researcher, limit);
      if (!command.json) {
        out << "researcher " << researcher->id << " (" << store::LabelResearcher(conn, researcher->id).name
            << "); pool: " << pool.needs.size() << " open needs\n";
      }
    }

    if (!command.json && matches.empty()) {
      out << "no matches\n";
      return 0;
    }
    if (!command.json) {
      out << std::left << std::setw(6) << "RANK" << std::setw(9) << "SCORE" << std::setw(8) << "ID" << std::setw(36)
          << (command.side == "need" ? "RESEARCHER" : "NEED") << "WHY\n";
    }
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const auto& m = matches[i];
      const bool push = std::find(planned.begin(), planned.end(), m.id) != planned.end();
      const std::string field = m.shared_field.empty() ? "" : FieldName(programme, m.shared_field);
      std::string who;
      if (command.side == "need") {
        const auto label = store::LabelResearcher(conn, m.id);
        who = label.name;
        if (!label.unit.empty()) who += " · " + label.unit;
        if (!label.title.empty()) who += " · " + label.title;
      } else if (const auto need = store::LoadNeed(conn, m.id)) {
        who = need->title;
      }
      if (command.json) {
        nlohmann::json line = {{"rank", i + 1},    {"id", m.id},     {"score", m.score},
                               {"terms", m.terms}, {"field", field}, {"label", who}};
        if (command.plan) line["push"] = push;
        out << line.dump() << "\n";
        continue;
      }
      std::ostringstream score;
      score << std::fixed << std::setprecision(2) << m.score;
      std::string why = JoinTerms(m.terms);
      if (!field.empty()) why += (why.empty() ? "" : "; ") + std::string("field: ") + field;
      out << std::left << std::setw(6) << (i + 1) << std::setw(9) << score.str() << std::setw(8) << m.id
          << std::setw(36) << who << why << (push ? "  [push]" : "") << "\n";
    }
    return 0;
  } catch (const SQLite::Exception& e) {
    err << "duijie match: " << config.store.path << ": " << e.what() << "\n";
    return 1;
  } catch (const std::runtime_error& e) {
    err << "duijie match: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace duijie::bot
