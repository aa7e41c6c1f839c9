#include "bot/config.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace duijie::bot {
namespace {

using namespace std::chrono_literals;

TEST(Config, EmbeddedDefaultsAreValid) {
  const auto loaded = LoadConfig(std::nullopt, {});
  ASSERT_TRUE(loaded.problems.empty());
  EXPECT_EQ(loaded.config.http.address, "127.0.0.1");
  EXPECT_EQ(loaded.config.http.port, 8080);
  EXPECT_EQ(loaded.config.store.path, "./duijie.db");
  EXPECT_EQ(loaded.config.channels.size(), 5U);
  EXPECT_EQ(loaded.config.channels.at("wecom").recipient_per_min, 30);
  EXPECT_TRUE(loaded.config.wecom_robot.keys.empty());
}

TEST(Config, RobotKeysAreNamedPairsAndABadListIsAProblem) {
  const auto good = ParseConfig("{}", "test.json", {{"DUIJIE_WECOM_ROBOT_KEYS", "staff=k-1,ops=k-2"}});
  ASSERT_TRUE(good.problems.empty());
  EXPECT_EQ(good.config.wecom_robot.keys, (std::map<std::string, std::string>{{"staff", "k-1"}, {"ops", "k-2"}}));
  for (const char* bad : {"staff", "staff=", "=k", "a=1,a=2", "a=1,,b=2"}) {
    const auto loaded = ParseConfig("{}", "test.json", {{"DUIJIE_WECOM_ROBOT_KEYS", bad}});
    ASSERT_EQ(loaded.problems.size(), 1U) << bad;
    EXPECT_NE(loaded.problems[0].find("wecom_robot.keys"), std::string::npos);
    EXPECT_EQ(loaded.problems[0].find("k-"), std::string::npos);  // a key is never echoed
  }
}

TEST(Config, FileWithCommentsThenEnvironmentWins) {
  const auto loaded = ParseConfig(R"(
    // a comment
    { "http": { "listen": "127.0.0.1:9000", /* inline */ "read_timeout_ms": 500 },
      "store": { "path": "/tmp/a.db" },
      "sms": { "rate_per_s": 2.5 } })",
                                  "test.json", {{"DUIJIE_HTTP_LISTEN", "[::1]:0"}, {"DUIJIE_LOG_ACCESS", "off"}});
  ASSERT_TRUE(loaded.problems.empty()) << loaded.problems.front();
  EXPECT_EQ(loaded.config.http.address, "::1");
  EXPECT_EQ(loaded.config.http.port, 0);
  EXPECT_EQ(loaded.config.http.read_timeout, 500ms);
  EXPECT_EQ(loaded.config.store.path, "/tmp/a.db");
  EXPECT_FALSE(loaded.config.log.access);
  EXPECT_DOUBLE_EQ(loaded.config.channels.at("sms").rate_per_s, 2.5);
}

TEST(Config, EveryProblemIsOneLineNamingKeyValueAndExpectation) {
  const auto loaded = ParseConfig(R"({
      "http": { "listen": "localhost", "max_body_bytes": -1, "lisen": 1 },
      "store": { "synchronous": "sometimes" },
      "nope": 3 })",
                                  "bad.json", {{"DUIJIE_HTTP_THREADS", "many"}, {"DUIJIE_HTTP_PORT", "80"}});
  ASSERT_EQ(loaded.problems.size(), 7U);
  const auto all = [&] {
    std::string s;
    for (const auto& p : loaded.problems) {
      EXPECT_EQ(p.find('\n'), std::string::npos);
      EXPECT_EQ(p.rfind("config: ", 0), 0U);
      s += p + "\n";
    }
    return s;
  }();
  EXPECT_NE(all.find(R"(http.listen = "localhost" (bad.json): expected host:port)"), std::string::npos) << all;
  EXPECT_NE(all.find("http.max_body_bytes = -1"), std::string::npos) << all;
  EXPECT_NE(all.find("http.lisen (bad.json): unknown key"), std::string::npos) << all;
  EXPECT_NE(all.find(R"(store.synchronous = "sometimes" (bad.json): expected one of full, normal)"), std::string::npos)
      << all;
  EXPECT_NE(all.find("nope (bad.json): unknown section"), std::string::npos) << all;
  EXPECT_NE(all.find(R"(http.threads = "many" (from DUIJIE_HTTP_THREADS): expected a whole number)"), std::string::npos)
      << all;
  EXPECT_NE(all.find("DUIJIE_HTTP_PORT (environment): unknown variable"), std::string::npos) << all;
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  const auto loaded = ParseConfig("{\n  \"http\": {\n    \"listen\": ,\n  }\n}", "f.json", {});
  ASSERT_EQ(loaded.problems.size(), 1U);
  EXPECT_NE(loaded.problems[0].find("f.json:3:"), std::string::npos) << loaded.problems[0];
}

TEST(Config, SmsSettingsAreCheckedTogether) {
  const auto good = ParseConfig("{}", "test.json",
                                {{"DUIJIE_SMS_ALLOW_IPS", " 10.0.0.1, ::1 "},
                                 {"DUIJIE_SMS_QUIET_HOURS", "22:00-07:30"},
                                 {"DUIJIE_SMS_CALLBACK_SECRET", "abcdefghijklmnop-_1"}});
  ASSERT_TRUE(good.problems.empty()) << good.problems.front();
  EXPECT_EQ(good.config.sms.allow_ip_list, (std::vector<std::string>{"10.0.0.1", "::1"}));
  EXPECT_EQ(ParseQuietHours("22:00-07:30"), std::make_pair(22 * 60, 7 * 60 + 30));
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"DUIJIE_SMS_ALLOW_IPS", "10.0.0.1,not-an-ip"},
           {"DUIJIE_SMS_QUIET_HOURS", "9pm-8am"},
           {"DUIJIE_SMS_CALLBACK_SECRET", "short"},
           {"DUIJIE_SMS_CALLBACK_SECRET", "has/slash/in/the/path"},
           {"DUIJIE_SMS_TENCENT_SECRET_ID", "AKID"},  // without the key and app id
           {"DUIJIE_SMS_TWILIO_ACCOUNT_SID", "AC1"}}) {
    const auto bad = ParseConfig("{}", "test.json", {{name, value}});
    EXPECT_FALSE(bad.problems.empty()) << name << "=" << value;
  }
  const auto no_sign = ParseConfig(
      "{}", "test.json", {{"DUIJIE_SMS_ALIYUN_ACCESS_KEY_ID", "LTAI"}, {"DUIJIE_SMS_ALIYUN_ACCESS_KEY_SECRET", "s"}});
  ASSERT_EQ(no_sign.problems.size(), 1U);
  EXPECT_NE(no_sign.problems[0].find("sms.sign_name"), std::string::npos);
}

TEST(Config, ANumberTooLargeForAnyTypeIsAProblemNotACrash) {
  // Found by fuzzing: the JSON parser reports it as out_of_range, not as a parse error.
  const auto loaded = ParseConfig(R"({"http": {"max_body_bytes": 1e999}})", "f.json", {});
  ASSERT_EQ(loaded.problems.size(), 1U);
  EXPECT_NE(loaded.problems[0].find("not valid JSON"), std::string::npos) << loaded.problems[0];
}

TEST(Config, MissingOrEmptyFileIsAProblem) {
  test::TempDir dir;
  EXPECT_EQ(LoadConfig(dir.File("missing.json"), {}).problems.size(), 1U);
  std::ofstream(dir.File("empty.json")) << "  \n";
  EXPECT_EQ(LoadConfig(dir.File("empty.json"), {}).problems.size(), 1U);
}

TEST(Config, EnvNamesFollowTheDesign) {
  for (const auto& key : ConfigKeys()) {
    if (key.section == "http" && key.key == "listen") {
      EXPECT_EQ(EnvName(key), "DUIJIE_HTTP_LISTEN");
    }
    if (key.section == "store" && key.key == "path") {
      EXPECT_EQ(EnvName(key), "DUIJIE_STORE_PATH");
    }
  }
}

// The example is the documentation: it must parse, hold only known keys, and mention every key.
TEST(Config, ExampleFileParsesAndDocumentsEveryKey) {
  std::ifstream in(std::string(DUIJIE_SOURCE_DIR) + "/config/duijie.example.json");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  const auto loaded = ParseConfig(text.str(), "duijie.example.json", {});
  ASSERT_TRUE(loaded.problems.empty()) << loaded.problems.front();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, true, true);
  for (const auto& key : ConfigKeys()) {
    EXPECT_TRUE(doc.contains(key.section) && doc[std::string(key.section)].contains(key.key))
        << key.section << "." << key.key << " is missing from config/duijie.example.json";
  }
  // And its values are the embedded defaults.
  const auto defaults = LoadConfig(std::nullopt, {}).config;
  EXPECT_EQ(loaded.config.http.port, defaults.http.port);
  EXPECT_EQ(loaded.config.store.max_batch, defaults.store.max_batch);
  EXPECT_EQ(loaded.config.dispatcher.retry_cap, defaults.dispatcher.retry_cap);
  EXPECT_DOUBLE_EQ(loaded.config.channels.at("email").rate_per_s, defaults.channels.at("email").rate_per_s);
}

}  // namespace
}  // namespace duijie::bot
