// Audience filters against a seeded database whose answers are known person by person.
#include "dialogs/audiences.hpp"

#include <set>

#include <gtest/gtest.h>

#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

class AudiencesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("某风电公司", "hb01", "energy");  // person 1: verified, no need
    auto& db = db_.Conn().Db();
    db.exec(R"sql(
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
        (2, 'enterprise_contact', 'verified', '王二', 0, 0),
        (3, 'enterprise_contact', 'verified', '张三', 0, 0),
        (4, 'enterprise_contact', 'pending', '李四', 0, 0),
        (5, 'researcher', 'verified', '赵五', 0, 0),
        (6, 'researcher', 'verified', '钱六', 0, 0),
        (7, 'staff', 'verified', '孙七', 0, 0),
        (8, 'unknown', 'onboarding', NULL, 0, 0);
      INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, status, created_at, updated_at) VALUES
        (2, '某药企', '91350100M000100Y43', 'hb02', 'biomed', 2, 'verified', 0, 0),
        (3, '某材料公司', '91350100M000200Y1H', 'hb01', 'energy', 3, 'verified', 0, 0),
        (4, '某新公司', '91420100MA4K00001X', 'hb01', 'energy', 4, 'pending', 0, 0);
      UPDATE enterprises SET status = 'verified' WHERE id = 1;
      INSERT INTO units (id, name, kind, created_at) VALUES (1, '华中科技大学', 'university', 0), (2, '武汉大学', 'university', 0);
      INSERT INTO researchers (person_id, unit_id, eligibility, fields, region, status, created_at, updated_at) VALUES
        (5, 1, 'university_staff', '["energy", "materials"]', 'hb01', 'verified', 0, 0),
        (6, 2, 'university_staff', '["biomed"]', 'hb02', 'verified', 0, 0);
      INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at) VALUES
        (10, 1, 1, '草稿', 'draft', 0, 0),
        (20, 2, 1, '药物缓释', 'published', 0, 0),
        (30, 3, 1, '涂层', 'contracted', 0, 0);
      INSERT INTO contracts (id, need_id, researcher_person_id, unit_id, contract_type, amount_wan, signed_on, created_at, updated_at)
        VALUES (1, 30, 5, 1, 'development', 20, '2021-01-10', 0, 0);
      INSERT INTO pushes (id, need_id, researcher_person_id, status, created_at, updated_at) VALUES
        (1, 30, 5, 'interested', 0, 0), (2, 20, 6, 'interested', 0, 0), (3, 30, 6, 'sent', 0, 0);
      INSERT INTO proposals (push_id, body, channel, created_at) VALUES (2, '方案', 'sms', 0);
      INSERT INTO api_tokens (name, token_sha256, role, region, person_id, created_at) VALUES ('wuhan', 'x', 'bureau_reviewer', 'hb01', 7, 0);
    )sql");
  }

  std::set<std::int64_t> Members(const json& filter, const char* today = "2021-01-15") {
    auto a = ParseAudience(filter, programme_, admin_);
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    if (!a) return {};
    const auto q = BuildAudienceSql(*a, programme_, *ParseIsoDate(today));
    SQLite::Statement s(db_.Conn().Db(), "SELECT p.id FROM people p WHERE " + q.where);
    BindAudience(s, q);
    std::set<std::int64_t> out;
    while (s.executeStep()) out.insert(s.getColumn(0).getInt64());
    EXPECT_EQ(CountAudience(db_.Conn(), *a, programme_, *ParseIsoDate(today)), static_cast<std::int64_t>(out.size()));
    return out;
  }

  test::TestDb db_;
  const Programme& programme_ = Programme::Embedded().at("hubei-2020");
  const Staff admin_{"hq", "admin", std::nullopt};
};

using Ids = std::set<std::int64_t>;

TEST_F(AudiencesTest, PlainConditions) {
  EXPECT_EQ(Members(json::object()), (Ids{1, 2, 3, 4, 5, 6, 7})) << "everyone but people of unknown role";
  EXPECT_EQ(Members({{"roles", {"researcher"}}}), (Ids{5, 6}));
  EXPECT_EQ(Members({{"regions", {"hb01"}}}), (Ids{1, 3, 4, 5, 7})) << "enterprise, researcher and token regions";
  EXPECT_EQ(Members({{"fields", {"energy"}}}), (Ids{1, 3, 4, 5}));
  EXPECT_EQ(Members({{"fields", {"materials", "biomed"}}}), (Ids{2, 5, 6}));
  EXPECT_EQ(Members({{"units", {1}}}), (Ids{5}));
  EXPECT_EQ(Members({{"statuses", {"pending"}}}), (Ids{4}));
  EXPECT_EQ(Members({{"people", {2, 5, 8}}}), (Ids{2, 5}));
  EXPECT_EQ(Members({{"roles", {"enterprise_contact"}}, {"regions", {"hb01"}}, {"statuses", {"verified"}}}),
            (Ids{1, 3}));
}

TEST_F(AudiencesTest, ProgrammeStagesReadTheRecords) {
  EXPECT_EQ(Members({{"stage", "no_need"}}), (Ids{1})) << "a draft is not a submitted need; 4 is not verified";
  EXPECT_EQ(Members({{"stage", "published_no_contract"}}), (Ids{2}));
  EXPECT_EQ(Members({{"stage", "shortlisted_no_contract"}}), Ids{});
  EXPECT_EQ(Members({{"stage", "contract_no_evidence"}}), (Ids{3}));
  EXPECT_EQ(Members({{"stage", "report_not_filed"}}), (Ids{3}));
  EXPECT_EQ(Members({{"stage", "interested_no_proposal"}}), (Ids{5})) << "6 sent a proposal";
  EXPECT_EQ(Members({{"stage", "push_unanswered"}}), (Ids{6}));
  // A person who does the step leaves the audience by themselves.
  db_.Conn().Db().exec("INSERT INTO proposals (push_id, body, channel, created_at) VALUES (1, '方案', 'sms', 0)");
  EXPECT_EQ(Members({{"stage", "interested_no_proposal"}}), Ids{});
  db_.Conn().Db().exec("UPDATE needs SET stage = 'submitted' WHERE id = 10");
  EXPECT_EQ(Members({{"stage", "no_need"}}), Ids{});
}

TEST_F(AudiencesTest, DueWithinDaysOfAMilestone) {
  const json filter = {{"stage", "report_not_filed"}, {"milestone", "report_due"}, {"due_within_days", 10}};
  EXPECT_EQ(Members(filter, "2021-11-25"), (Ids{3})) << "the report is due 2021-11-30";
  EXPECT_EQ(Members(filter, "2021-11-01"), Ids{}) << "not yet within 10 days";
  EXPECT_EQ(Members(filter, "2021-12-01"), Ids{}) << "past";
}

TEST_F(AudiencesTest, BadFiltersAreRefusedByName) {
  const auto error = [this](const json& filter, const Staff& staff) {
    auto a = ParseAudience(filter, programme_, staff);
    return a ? std::string("accepted") : a.error().message;
  };
  EXPECT_NE(error({{"role", {"researcher"}}}, admin_).find("'role' is not a condition"), std::string::npos);
  EXPECT_NE(error({{"roles", {"boss"}}}, admin_).find("'boss'"), std::string::npos);
  EXPECT_NE(error({{"regions", {"hb99"}}}, admin_).find("'hb99'"), std::string::npos);
  EXPECT_NE(error({{"stage", "done"}}, admin_).find("stage"), std::string::npos);
  EXPECT_NE(error({{"milestone", "report_due"}}, admin_).find("go together"), std::string::npos);
  EXPECT_NE(error({{"units", {"x"}}}, admin_).find("not an id"), std::string::npos);
  EXPECT_NE(error(json::array(), admin_).find("object"), std::string::npos);
}

TEST_F(AudiencesTest, ABureauReviewerSpeaksToItsRegionOnly) {
  const Staff wuhan{"wuhan", "bureau_reviewer", "hb01"};
  auto own = ParseAudience({{"roles", {"enterprise_contact"}}}, programme_, wuhan);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->regions, std::vector<std::string>{"hb01"});
  auto other = ParseAudience({{"regions", {"hb02"}}}, programme_, wuhan);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, make_error_code(Errc::kPermissionDenied));
}

TEST_F(AudiencesTest, PreviewCountsAndMasksTheSample) {
  db_.Conn().Db().exec(
      "INSERT INTO identities (person_id, kind, address, created_at) VALUES (5, 'mobile', '+8613812345678', 0), "
      "(5, 'email', 'zhaowu@hust.edu.cn', 0)");
  auto a = ParseAudience({{"roles", {"researcher"}}}, programme_, admin_);
  ASSERT_TRUE(a);
  const auto preview = PreviewAudience(db_.Conn(), *a, programme_, *ParseIsoDate("2021-01-15"), 1);
  EXPECT_EQ(preview["count"], 2);
  ASSERT_EQ(preview["sample"].size(), 1U);
  const auto& first = preview["sample"][0];
  EXPECT_EQ(first["person_id"], 5);
  EXPECT_EQ(first["region"], "hb01");
  const std::string dump = first["reach"].dump();
  EXPECT_EQ(dump.find("12345678"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("zhaowu@"), std::string::npos) << dump;
}

TEST_F(AudiencesTest, SavedByName) {
  auto a = ParseAudience({{"stage", "no_need"}}, programme_, admin_);
  ASSERT_TRUE(a);
  const auto now = FromUnixMillis(1'790'000'000'000);
  auto saved = SaveAudience(db_.Conn(), admin_, "未提交需求的企业", *a, now);
  ASSERT_TRUE(saved);
  EXPECT_FALSE(SaveAudience(db_.Conn(), admin_, "未提交需求的企业", *a, now)) << "names are unique";
  const auto list = ListAudiences(db_.Conn());
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0]["audience"]["stage"], "no_need");
  EXPECT_EQ((*FindSavedAudience(db_.Conn(), (*saved)["id"].get<std::int64_t>()))["stage"], "no_need");
}

}  // namespace
}  // namespace duijie::dialogs
