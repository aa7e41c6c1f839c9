// The need list (需求清单) exported by the real binary as CSV and XLSX; the workbook is read back
// with exceljs (npm), a real spreadsheet reader: one sheet per industry and one with all.
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(ExportEndToEnd, TheNeedListAsCsvAndAsAWorkbookExcelReads) {
  test::TempDir dir;
  const std::string db = dir.File("duijie.db");
  test::ChildProcess migrate(DUIJIE_BINARY, {"migrate"}, {{"DUIJIE_STORE_PATH", db}});
  ASSERT_EQ(migrate.Wait(20s), 0);
  {
    store::Connection c(db, store::ConnectionOptions{});
    c.Db().exec(R"sql(
      INSERT INTO programmes (id, code, name, definition, created_at) VALUES (1, 'hubei-2020', 'h', '{}', 0);
      INSERT INTO people (id, role, status, created_at, updated_at) VALUES (1, 'enterprise_contact', 'verified', 0, 0);
      INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, status, created_at, updated_at)
        VALUES (1, '武汉风电科技有限公司', '91350100M000100Y43', 'hb01', 'energy', 1, 'verified', 0, 0);
      INSERT INTO needs (id, enterprise_id, programme_id, title, problem, field, amount_wan, stage, created_at, updated_at) VALUES
        (1, 1, 1, '风机叶片冬季覆冰', '冬天挂冰，只能停机', 'energy', 20, 'published', 0, 0),
        (2, 1, 1, '=HYPERLINK("x")', '', 'biomed', 12.5, 'in_talks', 0, 0),
        (3, 1, 1, '还在草稿', '', 'energy', NULL, 'draft', 0, 0);
    )sql");
  }
  test::ChildProcess token(DUIJIE_BINARY, {"token", "create", "--name", "hq", "--role", "viewer"},
                           {{"DUIJIE_STORE_PATH", db}});
  ASSERT_EQ(token.Wait(20s), 0);
  token.WaitForEof(5s);
  std::string secret = token.Stdout();
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();

  test::ChildProcess duijie(DUIJIE_BINARY, {"serve"},
                            {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                             {"DUIJIE_STORE_PATH", db},
                             {"DUIJIE_STORE_FILES_DIR", dir.File("files")},
                             {"DUIJIE_BROADCAST_MILESTONES", "false"}});
  const auto port = duijie.WaitForPort();
  const auto get = [&](const std::string& target) {
    test::HttpConnection c(port, 20s);
    c.SendRaw("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + secret +
              "\r\nConnection: close\r\n\r\n");
    auto res = c.ReadResponse();
    EXPECT_TRUE(res);
    return res ? *res : HttpResponse{};
  };

  const auto csv = get("/api/v1/exports/needs.csv");
  ASSERT_EQ(csv.result_int(), 200) << csv.body();
  EXPECT_EQ(csv[http::field::content_disposition], "attachment; filename=\"needs.csv\"");
  const std::string text = csv.body();
  EXPECT_EQ(text.rfind("\xEF\xBB\xBF序号,需求名称", 0), 0U) << "a BOM, then the header";
  EXPECT_NE(text.find("风机叶片冬季覆冰,武汉风电科技有限公司,武汉市,新能源与节能"), std::string::npos) << text;
  EXPECT_NE(text.find("\"'=HYPERLINK(\"\"x\"\")\""), std::string::npos) << "a formula is defused: " << text;
  EXPECT_EQ(text.find("还在草稿"), std::string::npos);

  const auto xlsx = get("/api/v1/exports/needs.xlsx");
  ASSERT_EQ(xlsx.result_int(), 200) << xlsx.body();
  EXPECT_EQ(xlsx[http::field::content_type], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  const std::string file = dir.File("needs.xlsx");
  std::ofstream(file, std::ios::binary) << xlsx.body();
  test::ChildProcess reader(DUIJIE_NODE, {std::string(DUIJIE_PEERS_DIR) + "/xlsx_read.js", file}, {});
  ASSERT_EQ(reader.Wait(30s), 0);
  reader.WaitForEof(5s);
  const json book = json::parse(reader.Stdout());
  ASSERT_EQ(book["sheets"].size(), 3U) << book.dump();
  EXPECT_EQ(book["sheets"][0]["name"], "生物与新医药");
  EXPECT_EQ(book["sheets"][1]["name"], "新能源与节能");
  EXPECT_EQ(book["sheets"][2]["name"], "全部需求");
  const json& energy = book["sheets"][1]["rows"];
  ASSERT_EQ(energy.size(), 2U) << "header and one need";
  EXPECT_EQ(energy[0][1], "需求名称");
  EXPECT_EQ(energy[1][1], "风机叶片冬季覆冰");
  EXPECT_EQ(energy[1][6], 20);
  EXPECT_EQ(book["sheets"][0]["rows"][1][1], "=HYPERLINK(\"x\")") << "a string cell, not a formula";
  EXPECT_EQ(book["sheets"][2]["rows"].size(), 3U);

  const auto funnel = get("/api/v1/stats/funnel");
  ASSERT_EQ(funnel.result_int(), 200);
  EXPECT_EQ(json::parse(funnel.body())["needs"]["by_stage"]["published"], 1);
  EXPECT_EQ(get("/api/v1/exports/needs.pdf").result_int(), 404);
}

TEST(ImportEndToEnd, BadRowsAreNamedAndNothingIsImportedUnlessPartial) {
  test::TempDir dir;
  const std::string db = dir.File("duijie.db");
  const std::string file = dir.File("researchers.csv");
  std::ofstream(file)
      << "\xEF\xBB\xBF姓名,手机,邮箱,单位,人员类型,领域,简介\n"
         "张三,13812345678,zs@hust.edu.cn,华中科技大学,高等学校在职科研人员,新材料,\"超疏水涂层, 覆冰\"\n"
         "李四,1234,ls@whu.edu.cn,武汉大学,高等学校在职科研人员,新能源与节能,\n"
         "王五,13912345678,,武汉大学,高等学校博士后,新能源与节能,\n";
  const std::map<std::string, std::string> env = {{"DUIJIE_STORE_PATH", db}};
  test::ChildProcess strict(DUIJIE_BINARY, {"import", "researchers", file}, env);
  EXPECT_EQ(strict.Wait(30s), 1);
  strict.WaitForEof(5s);
  EXPECT_NE(strict.Stdout().find("row 2, 手机: "), std::string::npos) << strict.Stdout();
  EXPECT_NE(strict.Stdout().find("nothing was imported"), std::string::npos) << strict.Stdout();
  {
    store::Connection c(db, store::ConnectionOptions{});
    EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM people").getInt(), 0);
  }
  test::ChildProcess partial(DUIJIE_BINARY, {"import", "researchers", file, "--partial"}, env);
  EXPECT_EQ(partial.Wait(30s), 0);
  partial.WaitForEof(5s);
  EXPECT_NE(partial.Stdout().find("2 researchers imported from 3 rows; 1 row left out"), std::string::npos)
      << partial.Stdout();
  store::Connection c(db, store::ConnectionOptions{});
  EXPECT_EQ(c.Db()
                .execAndGet("SELECT bio FROM researchers r JOIN people p ON p.id = r.person_id WHERE "
                            "p.display_name = '张三'")
                .getString(),
            "超疏水涂层, 覆冰");
  EXPECT_EQ(c.Db().execAndGet("SELECT count(*) FROM units").getInt(), 2);
}

TEST(ImportEndToEnd, EnterprisesWithABadCreditCodeAreNamedByRowAndColumn) {
  test::TempDir dir;
  const std::string db = dir.File("duijie.db");
  const std::string file = dir.File("enterprises.csv");
  std::ofstream(file) << "企业名称,统一社会信用代码,地区,行业,联系人,手机\n"
                         "武汉ABC新材料科技有限公司,91420100MA4K00001U,武汉市,新材料,张三,13811110001\n"
                         "错码公司,91420100MA4K00003X,武汉市,新材料,王五,13811110003\n";
  const std::map<std::string, std::string> env = {{"DUIJIE_STORE_PATH", db}};
  test::ChildProcess strict(DUIJIE_BINARY, {"import", "enterprises", file}, env);
  EXPECT_EQ(strict.Wait(30s), 1);
  strict.WaitForEof(5s);
  EXPECT_NE(strict.Stdout().find("row 2, 统一社会信用代码: "), std::string::npos) << strict.Stdout();
  test::ChildProcess partial(DUIJIE_BINARY, {"import", "enterprises", file, "--partial"}, env);
  EXPECT_EQ(partial.Wait(30s), 0);
  partial.WaitForEof(5s);
  EXPECT_NE(partial.Stdout().find("1 enterprise imported from 2 rows; 1 row left out"), std::string::npos)
      << partial.Stdout();
  store::Connection c(db, store::ConnectionOptions{});
  EXPECT_EQ(c.Db().execAndGet("SELECT name FROM enterprises WHERE status = 'verified'").getString(),
            "武汉ABC新材料科技有限公司");
}

}  // namespace
}  // namespace duijie
