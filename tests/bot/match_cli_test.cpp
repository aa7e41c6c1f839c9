#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bot/match.hpp"
#include "support/test_db.hpp"

namespace duijie::bot {
namespace {

// A small programme in the store: one enterprise with a published and a draft need, three
// researchers, and one earlier "not my field" answer.
class MatchCliTest : public ::testing::Test {
 protected:
  MatchCliTest() {
    auto& db = db_.Conn().Db();
    db.exec("INSERT INTO programmes (id, code, name, definition, created_at) VALUES (1, 'hubei-2020', 'h', '{}', 0)");
    db.exec(
        "INSERT INTO people (id, display_name, role, created_at, updated_at) VALUES "
        "(1, '企业联系人', 'enterprise_contact', 0, 0), (11, '王工', 'researcher', 0, 0), "
        "(12, '李教授', 'researcher', 0, 0), (13, '赵博士', 'researcher', 0, 0)");
    db.exec("INSERT INTO units (id, name, kind, created_at) VALUES (1, '武汉大学', 'university', 0)");
    db.exec(
        "INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, created_at, updated_at) "
        "VALUES (1, '某风电公司', '91420100MA4KXXXX1X', 'hb01', 'energy', 1, 0, 0)");
    db.exec(
        "INSERT INTO needs (id, enterprise_id, programme_id, title, problem, targets, field, stage, created_at, "
        "updated_at) VALUES "
        "(5, 1, 1, '风机叶片冬天挂冰只能停机', '山区风电场冬季叶片覆冰，发电损失大。', '防冰除冰方案', 'energy', "
        "'published', 0, 0), "
        "(6, 1, 1, '锂电池低温续航差', '冬季电池容量衰减。', '低温电解液', 'energy', 'draft', 0, 0)");
    db.exec(
        "INSERT INTO researchers (person_id, unit_id, title, eligibility, fields, keywords, bio, region, created_at, "
        "updated_at) VALUES "
        "(11, 1, '教授', 'university_staff', '[\"energy\"]', '[\"叶片覆冰\",\"防冰涂层\"]', "
        "'研究风机叶片覆冰机理与超疏水防冰涂层。', 'hb01', 0, 0), "
        "(12, NULL, NULL, 'university_staff', '[\"civil\"]', '[\"隧道渗漏\"]', '研究隧道挂冰与渗漏治理。', 'hb01', 0, "
        "0), "
        "(13, NULL, NULL, 'university_staff', '[\"energy\"]', '[\"锂电池\",\"电解液\"]', '研究低温电解液。', 'hb02', "
        "0, 0)");
    config_.store.path = db_.Path();
    config_.matcher.opencc_config = "";
  }

  int Run(const MatchCommand& command) {
    out_.str("");
    err_.str("");
    return RunMatch(config_, command, out_, err_);
  }

  test::TestDb db_;
  Config config_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(MatchCliTest, RanksResearchersForANeedWithWhyAndThePushPlan) {
  ASSERT_EQ(Run({.side = "need", .id = 5, .limit = 5, .plan = true, .json = true}), 0) << err_.str();
  std::istringstream lines(out_.str());
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  const auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["id"], 11);
  EXPECT_EQ(first["rank"], 1);
  EXPECT_EQ(first["push"], true);
  EXPECT_EQ(first["label"], "王工 · 武汉大学 · 教授");
  EXPECT_NE(first["terms"].dump().find("叶片"), std::string::npos);
  EXPECT_FALSE(first["field"].get<std::string>().empty());
}

TEST_F(MatchCliTest, ADraftNeedCanBeTriedAndTheTableNamesTheColumns) {
  ASSERT_EQ(Run({.side = "need", .id = 6, .limit = 3, .plan = false, .json = false}), 0) << err_.str();
  EXPECT_NE(out_.str().find("need 6 「锂电池低温续航差」"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("RANK"), std::string::npos);
  EXPECT_NE(out_.str().find("赵博士"), std::string::npos);
}

TEST_F(MatchCliTest, NeedsForAResearcherAreTheOpenOnesOnly) {
  ASSERT_EQ(Run({.side = "researcher", .id = 13, .limit = 5, .plan = false, .json = true}), 0) << err_.str();
  // Need 6 is a draft: not in the pool, so not offered to researchers.
  EXPECT_EQ(out_.str().find("\"id\":6"), std::string::npos) << out_.str();
}

TEST_F(MatchCliTest, NotMyFieldLowersThatResearcherForNeedsOfTheField) {
  ASSERT_EQ(Run({.side = "need", .id = 5, .limit = 5, .plan = false, .json = true}), 0);
  const double before = nlohmann::json::parse(out_.str().substr(0, out_.str().find('\n')))["score"];
  db_.Conn().Db().exec(
      "INSERT INTO needs (id, enterprise_id, programme_id, title, field, stage, created_at, updated_at) VALUES "
      "(7, 1, 1, '风电场运维', 'energy', 'published', 0, 0)");
  db_.Conn().Db().exec(
      "INSERT INTO pushes (need_id, researcher_person_id, status, decline_reason, created_at, updated_at) VALUES "
      "(7, 11, 'declined', 'not_my_field', 0, 0)");
  ASSERT_EQ(Run({.side = "need", .id = 5, .limit = 5, .plan = false, .json = true}), 0);
  std::istringstream lines(out_.str());
  std::string line;
  bool seen = false;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["id"] != 11) continue;
    seen = true;
    EXPECT_LT(j["score"].get<double>(), before * 0.75);
  }
  EXPECT_TRUE(seen);
}

TEST_F(MatchCliTest, ResearchersAtCapacityOrOfAnIneligibleTypeAreLeftOut) {
  db_.Conn().Db().exec(
      "INSERT INTO needs (id, enterprise_id, programme_id, title, field, stage, created_at, updated_at) VALUES "
      "(8, 1, 1, '另一个项目', 'energy', 'published', 0, 0)");
  db_.Conn().Db().exec(
      "INSERT INTO pushes (need_id, researcher_person_id, status, created_at, updated_at) VALUES (8, 11, 'talking', 0, "
      "0)");
  db_.Conn().Db().exec("UPDATE researchers SET eligibility = 'masters_student' WHERE person_id = 12");
  ASSERT_EQ(Run({.side = "need", .id = 5, .limit = 5, .plan = false, .json = true}), 0) << err_.str();
  EXPECT_EQ(out_.str().find("\"id\":11"), std::string::npos) << out_.str();  // capacity 1, one project on
  EXPECT_EQ(out_.str().find("\"id\":12"), std::string::npos) << out_.str();  // not admitted by the programme
  EXPECT_NE(out_.str().find("\"id\":13"), std::string::npos) << out_.str();
}

TEST_F(MatchCliTest, UnknownIdsAreAClearError) {
  EXPECT_EQ(Run({.side = "need", .id = 99, .limit = 5, .plan = false, .json = false}), 1);
  EXPECT_NE(err_.str().find("no need 99"), std::string::npos);
  EXPECT_EQ(Run({.side = "researcher", .id = 99, .limit = 5, .plan = false, .json = false}), 1);
  EXPECT_NE(err_.str().find("no researcher"), std::string::npos);
}

TEST_F(MatchCliTest, AnOpenccFileThatDoesNotLoadIsAClearError) {
  config_.matcher.opencc_config = "/nonexistent/t2s.json";
  EXPECT_EQ(Run({.side = "need", .id = 5, .limit = 5, .plan = false, .json = false}), 1);
  EXPECT_NE(err_.str().find("/nonexistent/t2s.json"), std::string::npos);
}

}  // namespace
}  // namespace duijie::bot
