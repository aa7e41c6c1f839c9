// The `duijie` command line, run as a process: flags, exit codes, config errors, migrate, outbox.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

TEST(Cli, APersonsDataIsExportedAndErasedOnRequest) {
  test::TempDir dir;
  const std::map<std::string, std::string> env = {{"DUIJIE_STORE_PATH", dir.File("duijie.db")}};
  std::ofstream(dir.File("r.csv"))
      << "姓名,手机,邮箱,单位,人员类型,领域,简介\n"
         "张三,13812345678,zs@hust.edu.cn,华中科技大学,高等学校在职科研人员,新材料,超疏水涂层\n"
         "李四,13912345678,,武汉大学,高等学校在职科研人员,新能源与节能,电池\n";
  ASSERT_EQ(RunDuijie({"import", "researchers", dir.File("r.csv")}, env).exit_code, 0);

  const auto exported = RunDuijie({"person", "export", "13812345678"}, env);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto doc = nlohmann::json::parse(exported.out);
  EXPECT_EQ(doc["person"]["display_name"], "张三");
  EXPECT_EQ(doc["identities"].size(), 2U);
  EXPECT_EQ(doc["researcher"][0]["bio"], "超疏水涂层");
  EXPECT_EQ(exported.out.find("李四"), std::string::npos);
  ASSERT_EQ(RunDuijie({"person", "export", "zs@hust.edu.cn", "--out", dir.File("zs.json")}, env).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir.File("zs.json")))["person"]["id"], doc["person"]["id"]);

  const auto unconfirmed = RunDuijie({"person", "erase", "13812345678"}, env);
  EXPECT_EQ(unconfirmed.exit_code, 2);
  EXPECT_NE(unconfirmed.err.find("--yes"), std::string::npos) << unconfirmed.err;
  const auto erased = RunDuijie({"person", "erase", "13812345678", "--yes"}, env);
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  EXPECT_NE(erased.out.find("identities=2"), std::string::npos) << erased.out;

  const auto gone = RunDuijie({"person", "export", "13812345678"}, env);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err.find("13812345678"), std::string::npos) << "the address masked: " << gone.err;
  const auto after = RunDuijie({"person", "export", doc["person"]["id"].dump()}, env);
  ASSERT_EQ(after.exit_code, 0);
  EXPECT_EQ(after.out.find("张三"), std::string::npos);
  EXPECT_EQ(after.out.find("超疏水"), std::string::npos);
  EXPECT_EQ(RunDuijie({"person", "export", "13912345678"}, env).exit_code, 0) << "the other one is untouched";
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
