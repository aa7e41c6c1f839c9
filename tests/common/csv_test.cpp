#include "common/csv.hpp"

#include <gtest/gtest.h>

namespace duijie {
namespace {

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, QuotesCommasNewlinesAndAByteOrderMark) {
  const auto rows =
      ParseCsv("\xEF\xBB\xBF姓名,简介\r\n张三,\"做涂层, 十年\"\r\n李四,\"第一行\n第二行 \"\"引号\"\"\"\n");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(*rows, (Rows{{"姓名", "简介"}, {"张三", "做涂层, 十年"}, {"李四", "第一行\n第二行 \"引号\""}}));
  const auto no_final_newline = ParseCsv("a,b\n1,2");
  ASSERT_TRUE(no_final_newline);
  EXPECT_EQ(no_final_newline->size(), 2U);
}

TEST(Csv, AStrayQuoteIsAnErrorNamingTheRecord) {
  const auto rows = ParseCsv("a,b\n1,2\n3,\"4\"x\n");
  ASSERT_FALSE(rows);
  EXPECT_NE(rows.error().message.find("record 3"), std::string::npos) << rows.error().message;
  const auto open = ParseCsv("a,\"b\n");
  EXPECT_FALSE(open) << "an unterminated quote";
}

TEST(Csv, ALimitOnRecords) {
  const auto rows = ParseCsv("1\n2\n3\n", 2);
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, make_error_code(Errc::kTooLarge));
}

}  // namespace
}  // namespace duijie
