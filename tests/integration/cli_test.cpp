// The `duijie` command line, run as a process: flags, exit codes, config errors, migrate, outbox.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace duijie {
namespace {

test::CommandResult RunDuijie(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                              const std::string& cwd = "") {
  return test::RunCommand(DUIJIE_BINARY, std::move(args), std::move(env), cwd);
}

TEST(Cli, HelpAndVersionOnEveryCommand) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"outbox", "--help"}}) {
    const auto r = RunDuijie(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  }
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--version"}, {"serve", "--version"}, {"outbox", "--version"}}) {
    const auto r = RunDuijie(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("duijie " DUIJIE_VERSION_FOR_TEST), std::string::npos) << r.out;
  }
}

TEST(Cli, UnknownCommandsFlagsAndBadValuesExit2WithAUsageLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"serve", "--bogus"},
                                             {"outbox", "--limit", "0"},
                                             {"outbox", "--limit", "many"},
                                             {"outbox", "--status", "flying"},
                                             {"match", "need"},
                                             {"match", "vendor", "1"},
                                             {"match", "need", "0"},
                                             {"serve", "--config", "/nonexistent/duijie.json"}}) {
    const auto r = RunDuijie(args);
    EXPECT_EQ(r.exit_code, 2) << (args.empty() ? "(none)" : args.back()) << "\n" << r.err;
    EXPECT_NE(r.err.find("usage: duijie"), std::string::npos) << r.err;
  }
}

TEST(Cli, BadConfigStopsStartupWithOneLinePerProblemAndTouchesNothing) {
  test::TempDir dir;
  const auto config = dir.File("duijie.json");
  std::ofstream(config) << R"({ "http": { "listen": "nowhere", "threads": -3 }, "store": { "path": ")"
                        << dir.File("db.sqlite") << R"(" }, "extra": {} })";
  const auto r = RunDuijie({"serve", "--config", config}, {{"DUIJIE_LOG_LEVEL", "loud"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("config: http.listen = \"nowhere\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("config: http.threads = -3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("config: extra"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("config: log.level = \"loud\" (from DUIJIE_LOG_LEVEL)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 problems"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("db.sqlite")));
}

TEST(Cli, MigrateThenOutboxListsMessagesWithMaskedRecipients) {
  test::TempDir dir;
  const std::map<std::string, std::string> env{{"DUIJIE_STORE_PATH", dir.File("d.db")}};
  const auto migrate = RunDuijie({"migrate"}, env);
  EXPECT_EQ(migrate.exit_code, 0) << migrate.err;
  EXPECT_NE(migrate.out.find("schema version 0 -> " + std::to_string(store::LatestSchemaVersion())), std::string::npos)
      << migrate.out;
  EXPECT_NE(RunDuijie({"migrate"}, env).out.find("up to date"), std::string::npos);

  {
    store::Connection c(dir.File("d.db"), {});
    store::NewOutboxMessage m{"k1", "sms", "+8613812345678", "reminder", "{}", std::nullopt, std::nullopt, 0, 8,
                              0,    {},    std::nullopt};
    store::OutboxRepository::Enqueue(c, m, 1'790'000'000'000);
    m.idempotency_key = "k2";
    m.channel = "email";
    m.recipient = "li.si@example.com";
    store::OutboxRepository::Enqueue(c, m, 1'790'000'000'000);
  }
  const auto list = RunDuijie({"outbox"}, env);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("pending=2"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("+86138****5678"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("l***@example.com"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("13812345678"), std::string::npos);

  const auto json = RunDuijie({"outbox", "--json", "--status", "pending", "--limit", "1"}, env);
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1);
  const auto one = RunDuijie({"outbox", "--id", "1"}, env);
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("attempt_log"), std::string::npos);
  EXPECT_EQ(RunDuijie({"outbox", "--id", "99"}, env).exit_code, 1);
}

TEST(Cli, MatchOnAnEmptyStoreSaysThereIsNoSuchNeed) {
  test::TempDir dir;
  const std::map<std::string, std::string> env{{"DUIJIE_STORE_PATH", dir.File("duijie.db")}};
  const auto r = RunDuijie({"match", "need", "1"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no need 1"), std::string::npos) << r.err;
  EXPECT_NE(RunDuijie({"match", "--help"}).out.find("need or researcher"), std::string::npos);
}

TEST(Cli, OutboxWithoutADatabaseSaysWhatToDo) {
  test::TempDir dir;
  const auto r = RunDuijie({"outbox"}, {{"DUIJIE_STORE_PATH", dir.File("none.db")}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("none.db")));
}

}  // namespace
}  // namespace duijie
