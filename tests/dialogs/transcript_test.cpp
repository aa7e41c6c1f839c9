// Conversation transcripts (tests/dialogs/transcripts/*.txt), run through the engine on a fake
// clock. The format, one directive per line:
//   # comment                      programme: hubei-2020       today: 2026-11-22
//   taken: <credit code>           need: <summary line>        channel: sms
//   sender: +8613812345678         (the person's address on the channel; default person-1)
//   enterprise: none               (the person has no registered enterprise)
//   returned: <need id> <field,field> <values JSON>   (a need returned for changes)
//   > what the person says         > /subscribe  (an event)   > /file  (a file)
//   < what the bot answers         | the answer's next line
//   + 3d | 5h | 10m                (the clock moves)
//   ! effect_kind {"json": "subset"}
// Verification codes sent by SMS are 123456, then 666666 (scripted randomness).
// Every answer must be listed, in order. DUIJIE_TRANSCRIPT_RECORD=1 rewrites the answers from
// what the engine says (then read the diff before committing it).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "dialogs/engine.hpp"
#include "support/fakes.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class MemoryFacts final : public Facts {
 public:
  [[nodiscard]] bool CreditCodeTaken(std::string_view code) const override {
    return std::find(taken.begin(), taken.end(), code) != taken.end();
  }
  [[nodiscard]] std::vector<std::string> NeedSummaries() const override { return needs; }
  [[nodiscard]] bool HasEnterprise() const override { return has_enterprise; }
  [[nodiscard]] std::optional<ReturnedNeed> Returned() const override { return returned; }
  [[nodiscard]] std::optional<std::vector<Recommendation>> Recommendations() const override { return recommendations; }
  std::optional<ReturnedNeed> returned;
  std::optional<std::vector<Recommendation>> recommendations;  // nullopt: not a researcher
  bool has_enterprise = true;
  std::vector<std::string> taken;
  std::vector<std::string> needs;
};

bool Subset(const json& expected, const json& actual) {
  if (!expected.is_object()) return expected == actual;
  if (!actual.is_object()) return false;
  for (const auto& [k, v] : expected.items()) {
    if (!actual.contains(k) || !Subset(v, actual[k])) return false;
  }
  return true;
}

struct Result {
  std::vector<std::string> failures;
  std::string recorded;  // the file with the answers as the engine gave them
};

Result RunTranscript(const fs::path& file, bool record) {
  Result result;
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  test::FakeClock clock(FromUnixMillis(1'795'305'600'000));  // 2026-11-22T00:00:00Z
  Date today{2026, 11, 22};
  std::string programme = "hubei-2020";
  std::string channel = "wecom";
  std::string sender = "person-1";
  // Verification codes are 123456 (the digits drawn in turn).
  test::FakeRandom random({0.15, 0.25, 0.35, 0.45, 0.55, 0.65});
  MemoryFacts facts;
  json state;
  std::vector<std::string> pending;  // answers not yet matched
  std::vector<Effect> effects;
  std::string locale(Catalogue::kDefaultLocale);

  const auto fail = [&](std::size_t n, const std::string& what) {
    result.failures.push_back(file.filename().string() + ":" + std::to_string(n + 1) + ": " + what);
  };
  const auto expect_drained = [&](std::size_t n) {
    for (const auto& p : pending) fail(n, "unexpected answer:\n" + p);
    pending.clear();
  };
  const auto advance_days = [&](int days) {
    // Keep the civil date in step with the clock (whole days only matter to date answers).
    for (int i = 0; i < days; ++i) {
      static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      const bool leap = (today.year % 4 == 0 && today.year % 100 != 0) || today.year % 400 == 0;
      const int dim = today.month == 2 && leap ? 29 : kDays[today.month - 1];
      if (++today.day > dim) {
        today.day = 1;
        if (++today.month > 12) {
          today.month = 1;
          ++today.year;
        }
      }
    }
  };

  std::size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    const auto arg = [&line](std::size_t skip) { return line.size() > skip ? line.substr(skip) : std::string(); };
    const bool answer_line = line.rfind("< ", 0) == 0 || line == "<" || line.rfind("| ", 0) == 0 || line == "|";
    if (record && answer_line) {
      ++i;
      continue;
    }
    if (record) result.recorded += line + "\n";
    if (line.rfind("< ", 0) == 0 || line == "<") {
      // Collect the whole expected answer with its continuation lines.
      std::string expected = arg(2);
      std::size_t j = i + 1;
      while (j < lines.size() && (lines[j].rfind("| ", 0) == 0 || lines[j] == "|")) {
        expected += "\n" + (lines[j].size() > 2 ? lines[j].substr(2) : std::string());
        ++j;
      }
      if (pending.empty()) {
        fail(i, "expected an answer, got none:\n" + expected);
      } else {
        if (pending.front() != expected)
          fail(i, "answer differs.\nexpected:\n" + expected + "\nactual:\n" + pending.front());
        pending.erase(pending.begin());
      }
      i = j;
      continue;
    }
    if (line.rfind("| ", 0) == 0 || line == "|") {
      fail(i, "continuation without an answer");
    } else if (line.rfind("> ", 0) == 0) {
      expect_drained(i);
      InboundEvent event{channel, sender, "text", arg(2), std::nullopt, std::nullopt, {}};
      if (event.text == "/subscribe" || event.text == "/enter") {
        event.kind = "event";
        event.event = event.text == "/subscribe" ? "subscribe" : "enter_agent";
        event.text.clear();
      } else if (event.text == "/file") {
        event.kind = "file";
        event.text = "MEDIA";
      }
      const TurnContext ctx{.programme = Programme::Embedded().at(programme),
                            .catalogue = Catalogue::Embedded(),
                            .facts = facts,
                            .now = clock.Now(),
                            .today = today,
                            .locale = locale,
                            .channel = channel,
                            .sender = sender,
                            .random = &random};
      Turn turn = Engine::Standard().Handle(state, event, ctx);
      state = turn.state;
      // Round-trip the state as the store would, so nothing survives that JSON cannot hold.
      state = json::parse(state.dump());
      pending = turn.replies;
      for (const auto& e : turn.effects) {
        if (e.kind == "set_locale") locale = e.data["locale"].get<std::string>();  // as the runner stores it
      }
      if (record) {
        for (const auto& reply : pending) {
          std::istringstream text(reply);
          bool first = true;
          for (std::string part; std::getline(text, part); first = false) {
            result.recorded += (first ? "< " : "| ") + part + "\n";
          }
        }
        pending.clear();
      }
      effects.insert(effects.end(), turn.effects.begin(), turn.effects.end());
    } else if (line.rfind("+ ", 0) == 0) {
      expect_drained(i);
      const std::string amount = arg(2);
      const int n = std::stoi(amount);
      const char unit = amount.back();
      if (unit == 'd') {
        clock.Advance(std::chrono::hours(24 * n));
        advance_days(n);
      } else if (unit == 'h') {
        clock.Advance(std::chrono::hours(n));
      } else {
        clock.Advance(std::chrono::minutes(n));
      }
    } else if (line.rfind("! ", 0) == 0) {
      expect_drained(i);
      const std::string rest = arg(2);
      const auto space = rest.find(' ');
      const std::string kind = rest.substr(0, space);
      const json subset = space == std::string::npos ? json::object() : json::parse(rest.substr(space + 1));
      if (effects.empty()) {
        fail(i, "expected effect " + kind + ", none happened");
      } else {
        if (effects.front().kind != kind || !Subset(subset, effects.front().data)) {
          fail(i, "effect differs: " + effects.front().kind + " " + effects.front().data.dump());
        }
        effects.erase(effects.begin());
      }
    } else if (line.rfind("programme: ", 0) == 0) {
      programme = arg(11);
    } else if (line.rfind("channel: ", 0) == 0) {
      channel = arg(9);
    } else if (line.rfind("sender: ", 0) == 0) {
      sender = arg(8);
    } else if (line.rfind("locale: ", 0) == 0) {
      locale = arg(8);
    } else if (line.rfind("taken: ", 0) == 0) {
      facts.taken.push_back(arg(7));
    } else if (line.rfind("returned: ", 0) == 0) {
      // returned: <id> <fields,comma,separated> <values as JSON>
      std::istringstream spec(arg(10));
      Facts::ReturnedNeed r;
      std::string fields;
      spec >> r.id >> fields;
      std::string rest;
      std::getline(spec, rest);
      r.values = json::parse(rest);
      for (std::size_t start = 0; start <= fields.size();) {
        const auto comma = fields.find(',', start);
        r.fields.push_back(fields.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      facts.returned = r;
    } else if (line == "researcher: yes") {
      if (!facts.recommendations) facts.recommendations.emplace();
    } else if (line.rfind("recommend: ", 0) == 0) {
      // recommend: <title> | <terms, comma separated> | <field id>
      const std::string spec = arg(11);
      const auto bar1 = spec.find(" | ");
      const auto bar2 = spec.find(" | ", bar1 + 3);
      Facts::Recommendation r;
      r.title = spec.substr(0, bar1);
      const std::string terms = spec.substr(bar1 + 3, bar2 - bar1 - 3);
      for (std::size_t start = 0; start < terms.size();) {
        const auto comma = terms.find(',', start);
        r.terms.push_back(terms.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      r.field = spec.substr(bar2 + 3);
      if (!facts.recommendations) facts.recommendations.emplace();
      facts.recommendations->push_back(r);
    } else if (line == "enterprise: none") {
      facts.has_enterprise = false;
    } else if (line.rfind("need: ", 0) == 0) {
      facts.needs.push_back(arg(6));
    } else if (!line.empty() && line[0] != '#') {
      fail(i, "unknown directive: " + line);
    }
    ++i;
  }
  expect_drained(lines.size());
  for (const auto& e : effects) fail(lines.size(), "unexpected effect " + e.kind + " " + e.data.dump());
  return result;
}

// Found by fuzzing: a saved state of another shape (an older version, a hand edit) made every
// message fail. The person is told and starts afresh; the state saved after is readable.
TEST(Engine, AStateItCannotReadStartsAfresh) {
  MemoryFacts facts;
  test::FakeRandom random({0.5});
  const TurnContext ctx{.programme = Programme::Embedded().at("hubei-2020"),
                        .catalogue = Catalogue::Embedded(),
                        .facts = facts,
                        .now = FromUnixMillis(1'795'305'600'000),
                        .today = Date{2026, 11, 22},
                        .channel = "wecom",
                        .sender = "p",
                        .random = &random};
  const InboundEvent event{"wecom", "p", "text", "发布需求", std::nullopt, std::nullopt, {}};
  for (const auto& state :
       {json{{"form", 7}}, json{{"form", "need_posting"}, {"field", 21}, {"values", json::object()}},
        json::parse(R"({"form": "need_posting", "field": 6.66667e+41})"),
        json{{"form", "need_posting"}, {"field", 0}, {"values", {{"title", 5}}}, {"editing", "yes"}}}) {
    const auto turn = Engine::Standard().Handle(state, event, ctx);
    ASSERT_GE(turn.replies.size(), 2U) << state.dump();
    EXPECT_EQ(turn.replies[0], Catalogue::Embedded().Text("zh-CN", "form.state_reset")) << state.dump();
    EXPECT_EQ(turn.state.value("form", ""), "need_posting") << "then the message is handled as if idle";
    EXPECT_NO_THROW((void)Engine::Standard().Handle(turn.state, event, ctx));
  }
}

TEST(Transcripts, EveryJourneyReadsAsWritten) {
  const fs::path dir = fs::path(DUIJIE_TEST_DATA_DIR) / "dialogs" / "transcripts";
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    if (std::getenv("DUIJIE_TRANSCRIPT_RECORD") != nullptr) {
      const std::string recorded = RunTranscript(entry.path(), true).recorded;  // read before truncating
      std::ofstream(entry.path()) << recorded;
    }
    const auto result = RunTranscript(entry.path(), false);
    for (const auto& f : result.failures) ADD_FAILURE() << f;
  }
  EXPECT_GE(files, 6U);
}

}  // namespace
}  // namespace duijie::dialogs
