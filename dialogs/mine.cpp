#include "dialogs/mine.hpp"

#include <array>
#include <vector>

#include "dialogs/calendar.hpp"
#include "matcher/normalize.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

enum class Part { kAll, kPushes, kTalks, kDeadlines };

std::optional<Part> PartOf(const std::string& text) {
  struct Word {
    std::string_view word;
    Part part;
  };
  static constexpr std::array<Word, 8> kWords = {{{"我的", Part::kAll},
                                                  {"我的进展", Part::kAll},
                                                  {"我的推送", Part::kPushes},
                                                  {"我的匹配", Part::kPushes},
                                                  {"我的洽谈", Part::kTalks},
                                                  {"我的待办", Part::kDeadlines},
                                                  {"截止日期", Part::kDeadlines},
                                                  {"截止时间", Part::kDeadlines}}};
  for (const auto& w : kWords) {
    if (text == w.word) return w.part;
  }
  return std::nullopt;
}

class Lister {
 public:
  Lister(store::Connection& c, const Catalogue& catalogue, const std::string& locale, std::int64_t person,
         bool short_lists)
      : c_(c), catalogue_(catalogue), locale_(locale), person_(person), short_(short_lists) {}

  std::string Say(std::string_view key, const json& params = json::object()) const {
    return catalogue_.Text(locale_, key, params);
  }

  // A titled section of lines, the most recent first; on SMS three of them and how many more.
  std::string Section(std::string_view title_key, const std::vector<std::string>& lines) const {
    std::string out = Say(title_key);
    const std::size_t shown = short_ ? std::min<std::size_t>(lines.size(), 3) : lines.size();
    for (std::size_t i = 0; i < shown; ++i) out += "\n· " + lines[i];
    if (shown < lines.size()) out += "\n" + Say("mine.more", {{"count", lines.size() - shown}});
    return out;
  }

  std::vector<std::string> Needs() {
    auto& s = c_.Prepare(
        "SELECT n.title, n.stage FROM needs n JOIN enterprises e ON e.id = n.enterprise_id "
        "WHERE e.contact_person_id = :p ORDER BY n.id DESC");
    s.bind(":p", person_);
    std::vector<std::string> out;
    while (s.executeStep()) {
      const std::string stage = s.getColumn(1).getString();
      const std::string next_key = "mine.next." + stage;
      out.push_back(Say("mine.need", {{"title", s.getColumn(0).getString()},
                                      {"stage", Say("stage." + stage)},
                                      {"next", catalogue_.Has(locale_, next_key) ? Say(next_key) : ""}}));
    }
    s.reset();
    return out;
  }

  std::vector<std::string> Pushes() {
    auto& s = c_.Prepare(
        "SELECT n.title, p.status, COALESCE(p.reply_code, ''), n.stage FROM pushes p JOIN needs n ON n.id = p.need_id "
        "WHERE p.researcher_person_id = :p AND p.status IN ('sent', 'interested', 'shortlisted', 'talking', "
        "'chosen') ORDER BY p.id DESC");
    s.bind(":p", person_);
    std::vector<std::string> out;
    while (s.executeStep()) {
      const std::string status = s.getColumn(1).getString();
      // Chosen for the project: where the need stands (contract, evidence, report) matters to them too.
      const std::string key = status == "sent"     ? "mine.push_open"
                              : status == "chosen" ? "mine.push_chosen"
                                                   : "mine.push";
      out.push_back(Say(key, {{"title", s.getColumn(0).getString()},
                              {"status", Say("talk.status." + status)},
                              {"code", s.getColumn(2).getString()},
                              {"stage", Say("stage." + s.getColumn(3).getString())}}));
    }
    s.reset();
    return out;
  }

  std::vector<std::string> Talks() {
    auto& s = c_.Prepare(
        "SELECT n.title, CASE WHEN e.contact_person_id = :p THEN COALESCE(pe.display_name, '') ELSE e.name END "
        "FROM pushes p JOIN needs n ON n.id = p.need_id JOIN enterprises e ON e.id = n.enterprise_id "
        "JOIN people pe ON pe.id = p.researcher_person_id WHERE p.talk = 'open' AND "
        "(p.researcher_person_id = :p OR e.contact_person_id = :p) ORDER BY p.talk_at DESC");
    s.bind(":p", person_);
    std::vector<std::string> out;
    while (s.executeStep()) {
      out.push_back(Say("mine.talk", {{"title", s.getColumn(0).getString()}, {"with", s.getColumn(1).getString()}}));
    }
    s.reset();
    return out;
  }

 private:
  store::Connection& c_;
  const Catalogue& catalogue_;
  const std::string& locale_;
  std::int64_t person_;
  bool short_;
};

std::vector<std::string> Deadlines(const Lister& l, const Programme& programme, const Date& today) {
  std::vector<std::string> out;
  const auto now = ParseIsoDate(today.Iso());
  for (const auto& m : programme.milestones) {
    const auto due = ParseIsoDate(m.date);
    if (!due || !now || *due < *now) continue;
    out.push_back(l.Say("mine.deadline", {{"name", m.name}, {"date", m.date}, {"days", (*due - *now).count()}}));
  }
  return out;
}

}  // namespace

std::optional<std::string> AnswerMine(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                                      std::int64_t person, const std::string& locale, const std::string& text,
                                      const Date& today, bool short_lists) {
  const auto part = PartOf(matcher::NormalizeSpaces(text));
  if (!part) return std::nullopt;
  Lister l(c, catalogue, locale, person, short_lists);
  std::vector<std::string> sections;
  const auto add = [&](std::string_view title, const std::vector<std::string>& lines, bool always) {
    if (!lines.empty()) {
      sections.push_back(l.Section(title, lines));
    } else if (always) {
      sections.push_back(l.Say(std::string(title) + "_none"));
    }
  };
  if (*part == Part::kAll) add("mine.needs", l.Needs(), false);
  if (*part == Part::kAll || *part == Part::kPushes) add("mine.pushes", l.Pushes(), *part == Part::kPushes);
  if (*part == Part::kAll || *part == Part::kTalks) add("mine.talks", l.Talks(), *part == Part::kTalks);
  if (*part == Part::kAll || *part == Part::kDeadlines) {
    add("mine.deadlines", Deadlines(l, programme, today), *part == Part::kDeadlines);
  }
  if (sections.empty()) return l.Say("mine.nothing");
  std::string out;
  for (const auto& s : sections) out += (out.empty() ? "" : "\n") + s;
  return out;
}

}  // namespace duijie::dialogs
