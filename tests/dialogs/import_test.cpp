// Researchers and enterprises imported from CSV: a 10,000-row file with 37 bad rows gets a report naming each
// row and column and imports nothing, or (partial) only the good rows.
#include "dialogs/import.hpp"

#include <map>

#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

std::string Mobile(int i) { return "139" + std::to_string(10'000'000 + i).substr(0, 8); }

class ImportTest : public ::testing::Test {
 protected:
  // In one transaction, as `duijie import` runs it.
  ImportReport Import(const std::string& csv, ImportOptions options = {}) {
    SQLite::Transaction tx(db_.Conn().Db());
    auto report = ImportResearchers(db_.Conn(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), csv,
                                    options, FromUnixMillis(1'795'305'600'000));
    tx.commit();
    return report;
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
  const Programme& programme_ = Programme::Embedded().at("hubei-2020");
  const Clock::TimePoint now_ = FromUnixMillis(1'795'305'600'000);
};

// 10,000 rows; rows 100, 200, ... 3700 are bad, each in one of several ways.
std::string BigFile(std::map<std::size_t, std::string>& expected) {
  std::string csv = "姓名,手机,邮箱,单位,职称,人员类型,领域,关键词,简介,地区\n";
  for (int r = 1; r <= 10'000; ++r) {
    std::string name = "研究员" + std::to_string(r);
    std::string mobile = Mobile(r);
    std::string email = "r" + std::to_string(r) + "@hust.edu.cn";
    std::string type = "高等学校在职科研人员";
    std::string fields = "新能源与节能、新材料";
    std::string region = "武汉市";
    if (r % 100 == 0 && r <= 3700) {
      switch ((r / 100) % 6) {
        case 0:
          mobile = "1234";
          expected[r] = "手机";
          break;
        case 1:
          email = "not-an-email";
          expected[r] = "邮箱";
          break;
        case 2:
          type = "外星人";
          expected[r] = "人员类型";
          break;
        case 3:
          fields = "";
          expected[r] = "领域";
          break;
        case 4:
          region = "火星";
          expected[r] = "地区";
          break;
        default:
          mobile = Mobile(r - 1);
          expected[r] = "手机";
          break;  // the row before has it
      }
    }
    csv += name + "," + mobile + "," + email + ",华中科技大学,教授," + type + "," + fields + ",\"涂层;覆冰\",," +
           region + "\n";
  }
  return csv;
}

TEST_F(ImportTest, ThirtySevenBadRowsOfTenThousandAreNamedAndNothingIsImported) {
  std::map<std::size_t, std::string> expected;
  const auto csv = BigFile(expected);
  ASSERT_EQ(expected.size(), 37U);
  const auto report = Import(csv);
  EXPECT_TRUE(report.file_error.empty()) << report.file_error;
  EXPECT_EQ(report.rows, 10'000U);
  ASSERT_EQ(report.problems.size(), 37U);
  for (const auto& p : report.problems) {
    ASSERT_TRUE(expected.contains(p.row)) << "row " << p.row << " " << p.field << ": " << p.message;
    EXPECT_EQ(p.field, expected[p.row]) << "row " << p.row << ": " << p.message;
    EXPECT_FALSE(p.message.empty());
  }
  EXPECT_EQ(report.imported, 0U);
  EXPECT_EQ(Scalar("SELECT count(*) FROM people"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM units"), 0);

  ImportOptions partial;
  partial.partial = true;
  const auto good = Import(csv, partial);
  EXPECT_EQ(good.imported, 10'000U - 37U);
  EXPECT_EQ(Scalar("SELECT count(*) FROM researchers WHERE status = 'verified'"), 9963);
  EXPECT_EQ(Scalar("SELECT count(*) FROM units"), 1) << "one unit, by name";
  EXPECT_EQ(Scalar("SELECT count(*) FROM identities WHERE status = 'unverified'"), 2 * 9963);
  EXPECT_EQ(db_.Conn().Db().execAndGet("SELECT fields FROM researchers LIMIT 1").getString(),
            R"(["energy","materials"])");
  EXPECT_EQ(db_.Conn().Db().execAndGet("SELECT keywords FROM researchers LIMIT 1").getString(), R"(["涂层","覆冰"])");

  // The same file again: every address is taken now.
  const auto again = Import(csv);
  EXPECT_GE(again.problems.size(), 9963U);
  EXPECT_EQ(Scalar("SELECT count(*) FROM people"), 9963);
}

TEST_F(ImportTest, AnUnusableFileIsRefusedAsAWhole) {
  EXPECT_NE(Import("").file_error, "");
  EXPECT_NE(Import("姓名,手机,颜色\n张三,13812345678,红\n").file_error.find("颜色"), std::string::npos);
  EXPECT_NE(Import("姓名,手机\n张三,13812345678\n").file_error.find("人员类型"), std::string::npos);
  EXPECT_NE(Import("姓名,人员类型,领域\n张三,高等学校在职科研人员,新材料\n").file_error.find("手机"),
            std::string::npos);
  EXPECT_NE(Import("姓名,手机,人员类型,领域\n张三,\"138\"x,a,b\n").file_error.find("record 2"), std::string::npos);
  ImportOptions dry;
  dry.dry_run = true;
  const auto checked = Import("name,mobile,eligibility,fields\n张三,13812345678,university_staff,新材料\n", dry);
  EXPECT_TRUE(checked.problems.empty());
  EXPECT_EQ(checked.imported, 0U);
  EXPECT_EQ(Scalar("SELECT count(*) FROM people"), 0);
}

TEST_F(ImportTest, AWeComUserIdIsAnAddressOfItsOwnCheckedAndNeverTakenTwice) {
  const std::string header = "姓名,企业微信,人员类型,领域\n";
  const auto report = Import(header +
                             "张三,zhangsan,高等学校在职科研人员,新材料\n"
                             "李四,li si,高等学校在职科研人员,新材料\n"     // row 2: a space
                             "王五,zhangsan,高等学校在职科研人员,新材料\n"  // row 3: twice in the file
                             "赵六,,高等学校在职科研人员,新材料\n");        // row 4: no address at all
  std::vector<std::pair<std::size_t, std::string>> got;
  for (const auto& p : report.problems) got.emplace_back(p.row, p.field);
  EXPECT_EQ(got, (std::vector<std::pair<std::size_t, std::string>>{{2, "企业微信"}, {3, "企业微信"}, {4, "企业微信"}}));
  EXPECT_NE(report.problems[0].message.find("zhangsan"), std::string::npos) << "the message shows the form";
  EXPECT_EQ(Scalar("SELECT count(*) FROM people"), 0);

  ASSERT_TRUE(Import(header + "张三,zhang.san@hb,高等学校在职科研人员,新材料\n").problems.empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM identities WHERE kind = 'wecom_userid' AND address = 'zhang.san@hb' AND "
                   "status = 'unverified'"),
            1);
  EXPECT_EQ(Import(header + "张三,zhang.san@hb,高等学校在职科研人员,新材料\n").problems.size(), 1U) << "taken";
}

TEST_F(ImportTest, ATypeTheProgrammeDoesNotAdmitIsAProblemWithItsRule) {
  const auto report = Import("姓名,手机,人员类型,领域\n张三,13812345678,在读硕士研究生,新材料\n");
  ASSERT_EQ(report.problems.size(), 1U);
  EXPECT_EQ(report.problems[0].field, "人员类型");
}

TEST_F(ImportTest, EnterprisesAreCheckedAsTheRegistrationDialogChecksThem) {
  db_.SeedEnterprise("已注册的公司", "hb01", "energy");
  db_.Conn().Exec("UPDATE enterprises SET credit_code = '91350100M000100Y43'");
  const std::string header = "企业名称,统一社会信用代码,地区,行业,入库编号,联系人,手机,邮箱\n";
  const std::string good1 =
      "武汉ABC新材料科技有限公司,91420100MA4K00001U,武汉市,新材料,2024420100A0001,张三,13811110001,\n";
  const std::string good2 = "宜昌某电池公司,91420100MA4K00002Y,宜昌市,新能源与节能,,李四,,li.si@example.cn\n";
  const std::string rows = good1 + good2 +
                           "错码公司,91420100MA4K00003X,武汉市,新材料,,王五,13811110003,\n"  // row 3: check character
                           "重复公司,91420100MA4K00001U,武汉市,新材料,,赵六,13811110004,\n"  // row 4: twice in the file
                           "已注册,91350100M000100Y43,武汉市,新材料,,钱七,13811110005,\n"    // row 5: registered
                           "火星公司,91420100MA4K000032,火星,新材料,,孙八,13811110006,\n"    // row 6: region
                           "无人公司,91350100M000200Y1H,武汉市,新材料,,周,13811110001,\n";   // row 7: contact, mobile
  const auto report = ImportEnterprises(db_.Conn(), programme_, Catalogue::Embedded(), header + rows, {}, now_);
  ASSERT_TRUE(report.file_error.empty()) << report.file_error;
  EXPECT_EQ(report.rows, 7U);
  std::vector<std::pair<std::size_t, std::string>> got;
  for (const auto& p : report.problems) got.emplace_back(p.row, p.field);
  EXPECT_EQ(got, (std::vector<std::pair<std::size_t, std::string>>{{3, "统一社会信用代码"},
                                                                   {4, "统一社会信用代码"},
                                                                   {5, "统一社会信用代码"},
                                                                   {6, "地区"},
                                                                   {7, "联系人"},
                                                                   {7, "手机"}}));
  EXPECT_EQ(report.imported, 0U);
  EXPECT_EQ(Scalar("SELECT count(*) FROM enterprises"), 1) << "nothing written";

  ImportOptions partial;
  partial.partial = true;
  const auto done = ImportEnterprises(db_.Conn(), programme_, Catalogue::Embedded(), header + rows, partial, now_);
  EXPECT_EQ(done.imported, 2U);
  EXPECT_EQ(Scalar("SELECT count(*) FROM enterprises e JOIN people p ON p.id = e.contact_person_id WHERE e.status = "
                   "'verified' AND p.role = 'enterprise_contact' AND p.status = 'verified'"),
            2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM enterprises WHERE name = '武汉ABC新材料科技有限公司' AND region = 'hb01' AND "
                   "industry = 'materials' AND sme_number = '2024420100A0001'"),
            1)
      << "the name as written, the region and field as ids";
  EXPECT_EQ(Scalar("SELECT count(*) FROM identities WHERE address IN ('+8613811110001', 'li.si@example.cn') AND "
                   "status = 'unverified'"),
            2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM transitions WHERE entity = 'person' AND reason = 'imported'"), 2);
  // The header is the enterprises' own.
  EXPECT_NE(ImportEnterprises(db_.Conn(), programme_, Catalogue::Embedded(), "姓名,手机\n张三,13812345678\n", {}, now_)
                .file_error.find("姓名"),
            std::string::npos);
}

}  // namespace
}  // namespace duijie::dialogs
