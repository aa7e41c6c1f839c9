// The conversation runner against a real (temporary) database: people, identities, effects.
#include "dialogs/conversations.hpp"

#include <gtest/gtest.h>

#include "store/matching.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using namespace std::chrono_literals;

class ConversationsTest : public ::testing::Test {
 protected:
  Processed Say(const std::string& channel, const std::string& who, const std::string& text) {
    InboundEvent e{channel, who, "text", text, std::nullopt, std::nullopt, {}};
    return conversations_.Process(db_.Conn(), e, clock_.Now());
  }
  void Register(const std::string& who, const std::string& credit_code) {
    for (const char* answer : {"注册企业", "武汉光谷新材料科技有限公司"}) Say("wecom", who, answer);
    Say("wecom", who, credit_code);
    for (const char* answer : {"1", "4", "跳过", "张三", "13812345678", kCode, "zhangsan@example.com", kCode, "确认"}) {
      Say("wecom", who, answer);
    }
  }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};  // 2026-11-22T00:00Z
  // Every verification code is 666666.
  static constexpr const char* kCode = "666666";
  test::FakeRandom random_{{0.65}};
  Conversations conversations_{
      Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), {}, &random_};
};

TEST_F(ConversationsTest, AnEnterpriseRegistersAndPostsANeedThatItsListShows) {
  Register("zhangsan", "91350100M000100Y43");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM enterprises WHERE credit_code = '91350100M000100Y43' AND status = "
                       "'pending' AND region = 'hb01' AND industry = 'materials' AND sme_number IS NULL"),
            1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM people WHERE role = 'enterprise_contact' AND status = 'pending' AND "
                       "display_name = '张三'"),
            1);
  // The WeCom userid is authenticated by WeCom, the mobile by its SMS code, the email by the code
  // mailed to it.
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM identities WHERE kind = 'wecom_userid' AND status = 'verified'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM identities WHERE kind = 'mobile' AND address = '+8613812345678' AND "
                       "status = 'verified'"),
            1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM identities WHERE kind = 'email' AND address = 'zhangsan@example.com' "
                       "AND status = 'verified'"),
            1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'identity' AND to_state = 'verified' AND "
                       "reason = 'code by mail'"),
            1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'person' AND to_state = 'pending'"), 1);

  for (const char* answer : {"发布需求", "高镍正极材料循环寿命提升", "现有工艺下材料循环500次后容量衰减超过20%",
                             "循环1000次容量保持率不低于90%", "跳过", "1", "新能源", "二十万", "明年3月底", "确认"}) {
    Say("wecom", "zhangsan", answer);
  }
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM needs WHERE stage = 'submitted' AND amount_wan = 20 AND "
                       "deadline = '2027-03-31' AND category = 'product'"),
            1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'need' AND to_state = 'submitted'"), 1);
  const auto mine = Say("wecom", "zhangsan", "我的需求");
  ASSERT_EQ(mine.replies.size(), 1U);
  EXPECT_NE(mine.replies[0].find("高镍正极材料循环寿命提升（待地方初审）"), std::string::npos) << mine.replies[0];
}

TEST_F(ConversationsTest, ARegisteredResearcherGetsThePublishedNeedsTheMatcherRecommends) {
  Register("zhangsan", "91350100M000100Y43");
  for (const char* answer : {"发布需求", "高镍正极材料循环寿命提升", "现有工艺下材料循环500次后容量衰减超过20%",
                             "循环1000次容量保持率不低于90%", "跳过", "1", "新能源", "二十万", "明年3月底", "确认"}) {
    Say("wecom", "zhangsan", answer);
  }
  db_.Conn().Exec("UPDATE needs SET stage = 'published'");
  // A matcher over the store, as the gateway keeps one.
  matcher::Matcher matcher(matcher::Analyzer{});
  const auto pool = store::LoadMatchingPool(db_.Conn());
  Conversations with_matcher{
      Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(),
      Recommenders{[&matcher](const matcher::Researcher& r, std::size_t limit) { return matcher.NeedsFor(r, limit); },
                   {}}};
  const auto ask = [&](const std::string& who) {
    InboundEvent e{"wecom", who, "text", "推荐需求", std::nullopt, std::nullopt, {}};
    return with_matcher.Process(db_.Conn(), e, clock_.Now());
  };
  EXPECT_NE(ask("lisi").replies.at(0).find("科技人员注册"), std::string::npos);  // not a researcher yet
  for (const char* t :
       {"科技人员注册", "李四", "华中科技大学", "教授", "1", "6", "锂电池正极材料",
        "从事锂离子电池高镍正极材料循环寿命研究十余年", "武汉", "2", "13912345678", kCode, "跳过", "确认"}) {
    Say("wecom", "lisi", t);
  }
  for (const auto& n : pool.needs) matcher.Upsert(n);
  for (const auto& r : store::LoadMatchingPool(db_.Conn()).researchers) matcher.Upsert(r);
  const auto answer = ask("lisi");
  ASSERT_EQ(answer.replies.size(), 1U);
  EXPECT_NE(answer.replies[0].find("1. 高镍正极材料循环寿命提升（匹配依据："), std::string::npos) << answer.replies[0];
  EXPECT_NE(answer.replies[0].find("正极材料"), std::string::npos) << answer.replies[0];
}

TEST_F(ConversationsTest, ATurnThatWouldOutgrowTheStateLimitIsRefusedAndChangesNothing) {
  Conversations small{
      Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded(), {}, &random_, 1536};
  const auto say = [&](const std::string& text) {
    InboundEvent e{"wecom", "lisi", "text", text, std::nullopt, std::nullopt, {}};
    return small.Process(db_.Conn(), e, clock_.Now());
  };
  for (const char* t : {"科技人员注册", "李四", "华中科技大学", "教授", "1", "6", "锂电池正极材料"}) say(t);
  const auto state = [&] {
    auto& q = db_.Conn().Prepare("SELECT state FROM conversations");
    std::string out = q.executeStep() ? q.getColumn(0).getString() : "";
    q.reset();
    return out;
  };
  const std::string before = state();
  ASSERT_LT(before.size(), 1000U) << before;
  // A bio within its field's 500 characters, but more than this conversation may keep.
  std::string bio;
  for (int i = 0; i < 45; ++i) bio += "高镍正极材料循环寿命";
  const auto refused = say(bio);
  ASSERT_EQ(refused.replies.size(), 1U);
  EXPECT_EQ(refused.replies[0], Catalogue::Embedded().Text("zh-CN", "conversation.too_large"));
  EXPECT_EQ(state(), before);
  EXPECT_EQ(small.OversizedStatesRefused(), 1U);
  // A shorter answer goes on where the form was.
  const auto taken = say("从事锂离子电池高镍正极材料循环寿命研究十余年");
  ASSERT_FALSE(taken.replies.empty());
  EXPECT_NE(taken.replies.back(), refused.replies[0]);
  EXPECT_NE(state(), before);
  EXPECT_EQ(small.OversizedStatesRefused(), 1U);
}

TEST_F(ConversationsTest, ACreditCodeRegisteredByAnotherPersonIsRefusedFromTheStore) {
  Register("zhangsan", "91350100M000100Y43");
  Say("wecom", "lisi", "注册企业");
  Say("wecom", "lisi", "另一家公司");
  const auto taken = Say("wecom", "lisi", "91350100M000100Y43");
  ASSERT_EQ(taken.replies.size(), 1U);
  EXPECT_EQ(taken.replies[0], Catalogue::Embedded().Text("zh-CN", "invalid.credit_code_taken"));
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM people"), 2);
}

TEST_F(ConversationsTest, EachAddressIsOnePersonAndTheFormIsKeptPerPerson) {
  Say("wecom", "zhangsan", "注册企业");
  Say("sms", "+8613812345678", "你好");
  Say("email", "a@example.com", "你好");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM people"), 3);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM identities WHERE kind = 'email' AND status = 'unverified'"), 1);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM conversations WHERE flow = 'enterprise_registration'"), 1);
  const auto next = Say("wecom", "zhangsan", "武汉光谷新材料科技有限公司");
  EXPECT_EQ(next.replies.back(), Catalogue::Embedded().Text("zh-CN", "ask.enterprise_registration.credit_code"));
  clock_.Advance(48h);
  const auto resumed = Say("wecom", "zhangsan", "在吗");
  EXPECT_NE(resumed.replies[0].find("继续填写吗"), std::string::npos);
}

TEST_F(ConversationsTest, TheLanguageIsRememberedAcrossMessages) {
  Say("wecom", "zhangsan", "English");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM people WHERE locale = 'en'"), 1);
  const auto menu = Say("wecom", "zhangsan", "menu");
  EXPECT_EQ(menu.replies.at(0), Catalogue::Embedded().Text("en", "menu"));
}

TEST(ChinaDate, IsUtcPlusEight) {
  EXPECT_EQ(ChinaDate(FromUnixMillis(1'795'305'600'000)).Iso(), "2026-11-22");                      // 08:00 in Beijing
  EXPECT_EQ(ChinaDate(FromUnixMillis(1'795'305'600'000 - 8 * 3'600'000 - 1)).Iso(), "2026-11-21");  // 23:59:59.999
  EXPECT_EQ(ChinaDate(FromUnixMillis(1'795'305'600'000 - 8 * 3'600'000)).Iso(), "2026-11-22");      // midnight
}

TEST_F(ConversationsTest, AMobileProvedByCodeContinuesTheSameFormBySms) {
  // The number texted once before: an empty onboarding person holds it.
  Say("sms", "+8613812345678", "你好");
  for (const char* answer :
       {"注册企业", "武汉光谷新材料科技有限公司", "91350100M000100Y43", "1", "4", "跳过", "张三"}) {
    Say("wecom", "zhangsan", answer);
  }
  const auto sent = Say("wecom", "zhangsan", "13812345678");
  ASSERT_EQ(sent.outbox.size(), 1U) << "the code goes by SMS";
  EXPECT_EQ(sent.outbox[0].channel, "sms");
  EXPECT_EQ(sent.outbox[0].recipient, "+8613812345678");
  EXPECT_EQ(sent.outbox[0].kind, "verification_code");
  const auto payload = nlohmann::json::parse(sent.outbox[0].payload);
  EXPECT_EQ(payload["template_id"], "verification_code");
  EXPECT_EQ(payload["params"]["code"], kCode);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM conversations WHERE state LIKE '%666666%'"), 0)
      << "only a digest of the code is kept";
  const auto done = Say("wecom", "zhangsan", kCode);
  EXPECT_NE(done.replies.at(0).find("已验证"), std::string::npos) << done.replies[0];
  const std::int64_t person =
      db_.Scalar("SELECT person_id FROM identities WHERE kind = 'wecom_userid' AND address = 'zhangsan'");
  EXPECT_EQ(db_.Scalar("SELECT person_id FROM identities WHERE kind = 'mobile' AND address = '+8613812345678'"), person)
      << "the number moved from the empty onboarding person";
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM transitions WHERE entity = 'identity' AND to_state = 'verified'"), 1);
  // Now by SMS from that number: the same person, the same open form (the email question).
  const auto by_sms = Say("sms", "+8613812345678", "状态");
  EXPECT_EQ(by_sms.person_id, person);
  EXPECT_NE(by_sms.replies.at(0).find("张三"), std::string::npos) << by_sms.replies[0];
  Say("sms", "+8613812345678", "跳过");
  Say("sms", "+8613812345678", "确认");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM enterprises WHERE contact_person_id = " + std::to_string(person)), 1);
}

TEST_F(ConversationsTest, AMobileOfARegisteredPersonIsNotTakenOver) {
  Register("zhangsan", "91350100M000100Y43");
  for (const char* answer : {"注册企业", "另一家公司", "91350100M000200Y1H", "1", "4", "跳过", "李四", "13812345678"}) {
    Say("wecom", "lisi", answer);
  }
  const auto r = Say("wecom", "lisi", kCode);
  const std::string all = r.replies.at(0) + r.replies.back();
  EXPECT_NE(all.find("另一个账号"), std::string::npos) << all;
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM identities i JOIN people p ON p.id = i.person_id WHERE i.address = "
                       "'+8613812345678' AND p.display_name = '张三'"),
            1);
}

}  // namespace
}  // namespace duijie::dialogs
