#include "dialogs/catalogue.hpp"

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

TEST(Catalogue, EmbeddedLocalesHaveTheSameKeys) {
  const auto& c = Catalogue::Embedded();
  EXPECT_FALSE(c.Keys("zh-CN").empty());
  EXPECT_EQ(c.Keys("zh-CN"), c.Keys("en"));
}

TEST(Catalogue, SubstitutesAndFallsBack) {
  const auto c = Catalogue::FromJson(
      {{"zh-CN", R"({"hi": "你好，{name}！共{n}条", "only": "仅中文"})"}, {"en", R"({"hi": "Hi {name}, {n} items"})"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Text("zh-CN", "hi", {{"name", "张三"}, {"n", 3}}), "你好，张三！共3条");
  EXPECT_EQ(c->Text("en", "hi", {{"name", "Li"}, {"n", 2}}), "Hi Li, 2 items");
  EXPECT_EQ(c->Text("en", "only"), "仅中文");
  EXPECT_EQ(c->Text("fr", "hi", {{"name", "x"}}), "你好，x！共{n}条");
  EXPECT_EQ(c->Text("zh-CN", "missing"), "missing");
}

TEST(Catalogue, RejectsBadFiles) {
  EXPECT_FALSE(Catalogue::FromJson({{"zh-CN", "{"}}));
  EXPECT_FALSE(Catalogue::FromJson({{"zh-CN", R"({"a": 1})"}}));
  EXPECT_FALSE(Catalogue::FromJson({{"en", R"({"a": "b"})"}}));
}

}  // namespace
}  // namespace duijie::dialogs
