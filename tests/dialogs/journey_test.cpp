// Journeys between several people (tests/dialogs/journeys/*.txt), run against a real database on
// a fake clock, each message going the way the gateway takes it (SMS replies through
// ProcessSmsReply, everything else through the conversation runner). The format:
//   # comment
//   programme: jilin-kechuang               (the edition, before the first message; hubei-2020 if none)
//   sql: <statement>                        (seeds the database)
//   zhangsan@wecom > what they say          (also @sms with an E.164 number, @email with an address;
//                                            "/file REF [words]" sends a file: a WeCom media id, or a
//                                            mail's attachment by its SHA-256 with the mail's words)
//   < the answer to them                    | the answer's next line
//   => sms +8613711112222: a message queued for someone else (or for them on another channel)
//   + 3d | 5h | 10m                         (the clock moves)
//   ? <SQL giving one value> = <value>      (the store, asserted)
// Every answer and every message queued must be listed, in order. DUIJIE_TRANSCRIPT_RECORD=1
// rewrites them from what happened (then read the diff before committing it).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "dialogs/conversations.hpp"
#include "dialogs/sms_replies.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Outcome {
  std::vector<std::string> failures;
  std::string recorded;
};

// What someone else (or the speaker on another channel) is sent, as a transcript line.
std::string QueuedLine(const store::NewOutboxMessage& m) {
  const json payload = json::parse(m.payload);
  return "=> " + m.channel + " " + m.recipient + ": " + payload.value("text", std::string());
}

void AppendLines(std::string& out, const std::string& first_prefix, const std::string& text) {
  std::istringstream in(text);
  bool first = true;
  for (std::string part; std::getline(in, part); first = false) out += (first ? first_prefix : "| ") + part + "\n";
  if (text.empty()) out += first_prefix + "\n";
}

Outcome RunJourney(const fs::path& file, bool record) {
  Outcome result;
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  test::TestDb db;
  test::FakeClock clock(FromUnixMillis(1'795'341'600'000));  // 2026-11-22T10:00:00Z, 18:00 in Beijing
  test::FakeRandom random({0.65});                           // verification codes 666666
  std::string programme = "hubei-2020";
  std::optional<Conversations> runner;  // made at the first message, for the edition chosen by then
  std::vector<std::string> pending;     // expected in order: "< ..." answers and "=> ..." messages
  int n = 0;

  const auto fail = [&](std::size_t i, const std::string& what) {
    result.failures.push_back(file.filename().string() + ":" + std::to_string(i + 1) + ": " + what);
  };
  const auto drained = [&](std::size_t i) {
    for (const auto& p : pending) fail(i, "not in the transcript:\n" + p);
    pending.clear();
  };

  for (std::size_t i = 0; i < lines.size();) {
    const std::string& line = lines[i];
    const bool produced = line.rfind("< ", 0) == 0 || line == "<" || line.rfind("=> ", 0) == 0;
    const bool continuation = line.rfind("| ", 0) == 0 || line == "|";
    if (record && (produced || continuation)) {
      ++i;
      continue;
    }
    if (produced) {
      std::string expected = line;
      std::size_t j = i + 1;
      for (; j < lines.size() && (lines[j].rfind("| ", 0) == 0 || lines[j] == "|"); ++j) expected += "\n" + lines[j];
      if (pending.empty()) {
        fail(i, "expected, but nothing more happened:\n" + expected);
      } else {
        if (pending.front() != expected) fail(i, "differs.\nexpected:\n" + expected + "\nactual:\n" + pending.front());
        pending.erase(pending.begin());
      }
      i = j;
      continue;
    }
    if (record) result.recorded += line + "\n";
    if (continuation) {
      fail(i, "continuation without a line before it");
    } else if (const auto says = line.find(" > ");
               says != std::string::npos && line.rfind('@', says) != std::string::npos) {
      drained(i);
      const auto at = line.rfind('@', says);  // an email sender has an @ of its own
      const std::string who = line.substr(0, at);
      const std::string channel = line.substr(at + 1, says - at - 1);
      const std::string text = line.substr(says + 3);
      std::vector<std::string> replies;
      std::vector<store::NewOutboxMessage> queued;
      if (!runner) {
        runner.emplace(Engine::Standard(), Programme::Embedded().at(programme), Catalogue::Embedded(), Recommenders{},
                       &random);
      }
      const Conversations& conversations = *runner;
      db.Conn().Exec("BEGIN");
      if (channel == "sms") {
        const auto r = ProcessSmsReply(db.Conn(), conversations, Catalogue::Embedded(),
                                       {who, text, "tencent", "sms:" + std::to_string(++n), ""}, clock.Now());
        for (const auto& m : r.outbox) {
          if (m.channel == "sms" && m.recipient == who) {
            replies.push_back(json::parse(m.payload).value("text", std::string()));
          } else {
            queued.push_back(m);
          }
        }
      } else {
        InboundEvent event{channel, who, "text", text, std::nullopt, std::nullopt, {}};
        if (text.rfind("/file ", 0) == 0) {
          // A WeCom file (its media id), or a mail's attachment (its SHA-256) with the mail's words.
          const std::string rest = text.substr(6);
          const std::string ref = rest.substr(0, rest.find(' '));
          const std::string words = rest.size() > ref.size() ? rest.substr(ref.size() + 1) : "";
          event.kind = channel == "email" && !words.empty() ? "text" : "file";
          event.text = channel == "email" ? words : ref;
          if (channel == "email") event.attachments = {ref};
        }
        const auto p = conversations.Process(db.Conn(), event, clock.Now());
        replies = p.replies;
        queued = p.outbox;
      }
      // Queued as the gateway queues them, so the next turn sees what was sent (caps, windows).
      for (const auto& m : queued) store::OutboxRepository::Enqueue(db.Conn(), m, ToUnixMillis(clock.Now()));
      db.Conn().Exec("COMMIT");
      for (const auto& r : replies) {
        std::string block;
        AppendLines(block, "< ", r);
        pending.push_back(block.substr(0, block.size() - 1));
      }
      for (const auto& m : queued) {
        std::string block;
        AppendLines(block, "", QueuedLine(m));
        pending.push_back(block.substr(0, block.size() - 1));
      }
      if (record) {
        for (const auto& p : pending) result.recorded += p + "\n";
        pending.clear();
      }
    } else if (line.rfind("programme: ", 0) == 0) {
      programme = line.substr(11);
    } else if (line.rfind("sql: ", 0) == 0) {
      db.Conn().Exec(line.substr(5));
    } else if (line.rfind("+ ", 0) == 0) {
      drained(i);
      const int amount = std::stoi(line.substr(2));
      if (line.back() == 'd') {
        clock.Advance(std::chrono::hours(24 * amount));
      } else if (line.back() == 'h') {
        clock.Advance(std::chrono::hours(amount));
      } else {
        clock.Advance(std::chrono::minutes(amount));
      }
    } else if (line.rfind("? ", 0) == 0) {
      drained(i);
      const auto eq = line.rfind(" = ");
      const std::string sql = line.substr(2, eq - 2);
      const std::string want = line.substr(eq + 3);
      SQLite::Statement query(db.Conn().Db(), sql);
      const std::string value = !query.executeStep()          ? "no row"
                                : query.getColumn(0).isNull() ? "NULL"
                                                              : query.getColumn(0).getString();
      if (value != want) fail(i, sql + "\nexpected " + want + ", got " + value);
    } else if (!line.empty() && line[0] != '#') {
      fail(i, "unknown directive: " + line);
    }
    ++i;
  }
  drained(lines.size());
  return result;
}

TEST(Journeys, EveryJourneyReadsAsWritten) {
  const fs::path dir = fs::path(DUIJIE_TEST_DATA_DIR) / "dialogs" / "journeys";
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    if (std::getenv("DUIJIE_TRANSCRIPT_RECORD") != nullptr) {
      const std::string recorded = RunJourney(entry.path(), true).recorded;
      std::ofstream(entry.path()) << recorded;
    }
    for (const auto& f : RunJourney(entry.path(), false).failures) ADD_FAILURE() << f;
  }
  EXPECT_GE(files, 1U);
}

}  // namespace
}  // namespace duijie::dialogs
