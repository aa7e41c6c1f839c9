#include "common/mask.hpp"

#include <gtest/gtest.h>

namespace duijie {
namespace {

TEST(MaskPhone, KeepsPrefixAndLastFour) {
  EXPECT_EQ(MaskPhone("13812345678"), "138****5678");
  EXPECT_EQ(MaskPhone("+8613812345678"), "+86138****5678");
  EXPECT_EQ(MaskPhone("+14155550123"), "+141****0123");
  EXPECT_EQ(MaskPhone("12345"), "****");
}

TEST(MaskEmail, KeepsFirstLetterAndDomain) {
  EXPECT_EQ(MaskEmail("zhang.san@example.com"), "z***@example.com");
  EXPECT_EQ(MaskEmail("not-an-email"), "***");
}

struct RedactCase {
  const char* in;
  const char* out;
};

class RedactTextTest : public ::testing::TestWithParam<RedactCase> {};

TEST_P(RedactTextTest, MasksPhonesAndEmailsOnly) { EXPECT_EQ(RedactText(GetParam().in), GetParam().out); }

INSTANTIATE_TEST_SUITE_P(Table, RedactTextTest,
                         ::testing::Values(RedactCase{"call 13812345678 now", "call 138****5678 now"},
                                           RedactCase{"手机13812345678，谢谢", "手机138****5678，谢谢"},
                                           RedactCase{"from +8613812345678", "from +86138****5678"},
                                           RedactCase{"mail li.si@pku.edu.cn please", "mail l***@pku.edu.cn please"},
                                           // Ids, amounts and dates are not phone numbers and stay readable.
                                           RedactCase{"msg 1234567890123456 amount 200000",
                                                      "msg 1234567890123456 amount 200000"},
                                           RedactCase{"12345678901", "12345678901"},  // 11 digits, not a mobile prefix
                                           RedactCase{"id 138123456789", "id 138123456789"},  // 12 digits
                                           RedactCase{"@handle and a@b", "@handle and a@b"}, RedactCase{"", ""}));

TEST(IsSecretFieldName, RecognisesCommonSecretNames) {
  for (const char* name : {"token", "access_token", "Secret", "DUIJIE_WECOM_AES_KEY", "password", "Authorization"}) {
    EXPECT_TRUE(IsSecretFieldName(name)) << name;
  }
  for (const char* name : {"path", "status", "channel", "recipient"}) EXPECT_FALSE(IsSecretFieldName(name)) << name;
}

TEST(MaskAddress, ByKind) {
  EXPECT_EQ(MaskAddress("+8613812345678"), MaskPhone("+8613812345678"));
  EXPECT_EQ(MaskAddress("zhang.san@example.com"), "z***@example.com");
  EXPECT_EQ(MaskAddress("zhangsan"), "zhangsan") << "a WeCom userid is not a contact detail";
  EXPECT_EQ(MaskAddress("wx/13812345678").find("12345678"), std::string::npos) << "but a number inside is masked";
}

}  // namespace
}  // namespace duijie
