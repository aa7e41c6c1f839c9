// Staff send a broadcast by chatting with the bot on WeCom (issue 9): pick the audience, write or
// choose the text, see the count, confirm — within their role and region. Scripted on a fake
// clock against a seeded database.
#include <gtest/gtest.h>

#include "dialogs/conversations.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

class StaffChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Conn().Db().exec(R"sql(
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES
        (1, 'enterprise_contact', 'verified', '张三', 0, 0),
        (2, 'enterprise_contact', 'verified', '王二', 0, 0),
        (3, 'researcher', 'verified', '赵五', 0, 0),
        (7, 'staff', 'verified', '孙七', 0, 0),
        (8, 'staff', 'verified', '周八', 0, 0),
        (9, 'staff', 'verified', '吴九', 0, 0);
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES
        (1, 'mobile', '+8613800000001', 'verified', 0), (2, 'mobile', '+8613800000002', 'verified', 0),
        (3, 'mobile', '+8613800000003', 'verified', 0),
        (7, 'wecom_userid', 'sunqi', 'verified', 0), (7, 'mobile', '+8613800000007', 'verified', 0),
        (8, 'wecom_userid', 'zhouba', 'verified', 0), (9, 'wecom_userid', 'wujiu', 'verified', 0);
      INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, status, created_at, updated_at) VALUES
        (1, '某材料公司', '91350100M000200Y1H', 'hb01', 'energy', 1, 'verified', 0, 0),
        (2, '某药企', '91350100M000100Y43', 'hb02', 'biomed', 2, 'verified', 0, 0);
      INSERT INTO api_tokens (name, token_sha256, role, region, person_id, created_at) VALUES
        ('wuhan', 'a', 'bureau_reviewer', 'hb01', 7, 0), ('hq', 'b', 'admin', NULL, 8, 0),
        ('dashboard', 'c', 'viewer', NULL, 9, 0);
    )sql");
  }

  std::string Say(const std::string& who, const std::string& text, const std::string& channel = "wecom") {
    InboundEvent e{channel, who, "text", text, std::nullopt, std::nullopt, {}};
    const auto out = conversations_.Process(db_.Conn(), e, clock_.Now());
    std::string all;
    for (const auto& r : out.replies) all += (all.empty() ? "" : "\n---\n") + r;
    return all;
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};
  Conversations conversations_{Engine::Standard(), Programme::Embedded().at("hubei-2020"), Catalogue::Embedded()};
};

TEST_F(StaffChatTest, ABureauReviewerSendsToItsOwnRegionAfterSeeingTheCount) {
  auto reply = Say("sunqi", "发通知");
  EXPECT_NE(reply.find("发给谁"), std::string::npos) << reply;
  EXPECT_NE(reply.find("1. 全部企业联系人（武汉市）"), std::string::npos) << reply;
  EXPECT_NE(reply.find("需求已发布但未签合同的企业（武汉市）"), std::string::npos) << reply;
  reply = Say("sunqi", "1");
  EXPECT_NE(reply.find("请输入通知内容"), std::string::npos) << reply;
  // A link cannot go by SMS; a placeholder other than {name} cannot be filled: re-asked, saying why.
  reply = Say("sunqi", "详情见 https://kjt.hubei.gov.cn 通知");
  EXPECT_NE(reply.find("短信不能包含网址"), std::string::npos) << reply;
  reply = Say("sunqi", "{name}您好，请于{deadline}前签订合同。");
  EXPECT_NE(reply.find("“{deadline}”无法按人填写"), std::string::npos) << reply;
  reply = Say("sunqi", "{name}您好，请于2月28日前签订合同。");
  EXPECT_NE(reply.find("是否需要对方回复确认"), std::string::npos) << reply;
  reply = Say("sunqi", "1");
  // The preview: only 张三 is in 武汉 (hb01); 王二 is in another region.
  EXPECT_NE(reply.find("预计发送1人，例如：张三。"), std::string::npos) << reply;
  EXPECT_NE(reply.find("回复“确认”提交"), std::string::npos) << reply;
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts"), 0) << "nothing before 确认";
  reply = Say("sunqi", "确认");
  EXPECT_NE(reply.find("通知1已开始发送，共1人"), std::string::npos) << reply;
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts WHERE created_by = 'wuhan' AND status = 'scheduled' AND "
                   "ack_minutes IS NOT NULL AND json_extract(audience, '$.regions[0]') = 'hb01'"),
            1);
  const auto progress = Say("sunqi", "广播进度");
  EXPECT_NE(progress.find("1.「{name}您好，请于2月28日前签订合…」待发送：已发出0/0人，已确认0人"), std::string::npos)
      << progress;
}

TEST_F(StaffChatTest, AnAdminPicksASavedTemplateAndAnEmptyAudienceIsSaidBeforeSending) {
  db_.Conn().Db().exec(R"sql(
    INSERT INTO message_templates (name, body, created_by, created_at, updated_at) VALUES
      ('contract_due', '{"name":"contract_due","variables":[],"title":"合同签订提醒","text":"{name}您好，请尽快签订合同。"}', 'hq', 0, 0),
      ('report_due', '{"name":"report_due","variables":["deadline"],"title":"报告","text":"{deadline}前提交"}', 'hq', 0, 0);
  )sql");
  auto reply = Say("zhouba", "发通知");
  EXPECT_EQ(reply.find("（武汉市）"), std::string::npos) << "an admin reaches every region: " << reply;
  // Stage 'published_no_contract': nobody has a published need.
  reply = Say("zhouba", "需求已发布但未签合同的企业");
  EXPECT_NE(reply.find("1. 合同签订提醒：{name}您好，请尽快签订合同。"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("报告"), std::string::npos) << "a template needing {deadline} cannot be filled in a chat";
  reply = Say("zhouba", "1");
  reply = Say("zhouba", "不需要");
  EXPECT_NE(reply.find("目前没有可发送的对象"), std::string::npos) << reply;
  // Back to the audience by its number: all enterprise contacts (both regions).
  reply = Say("zhouba", "1");
  EXPECT_NE(reply.find("发给谁"), std::string::npos) << reply;
  reply = Say("zhouba", "1");
  EXPECT_NE(reply.find("预计发送2人"), std::string::npos) << reply;
  reply = Say("zhouba", "确认");
  EXPECT_NE(reply.find("共2人"), std::string::npos) << reply;
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts WHERE created_by = 'hq' AND ack_minutes IS NULL AND "
                   "json_extract(template, '$.custom.name') = 'contract_due'"),
            1);
}

TEST_F(StaffChatTest, OnlyStaffWithALiveSendingTokenOnWeComMayBroadcast) {
  // A viewer, an enterprise contact, and staff writing by SMS: the words are ordinary text.
  EXPECT_EQ(Say("wujiu", "发通知").find("发给谁"), std::string::npos);
  EXPECT_EQ(Say("+8613800000001", "发通知", "sms").find("发给谁"), std::string::npos);
  EXPECT_EQ(Say("+8613800000007", "发通知", "sms").find("发给谁"), std::string::npos);
  EXPECT_EQ(Say("wujiu", "广播进度").find("最近的通知"), std::string::npos);
  // A token revoked mid-form: the form cannot send.
  EXPECT_NE(Say("sunqi", "发通知").find("发给谁"), std::string::npos);
  Say("sunqi", "1");
  Say("sunqi", "{name}您好，请尽快签订合同。");
  Say("sunqi", "2");
  db_.Conn().Exec("UPDATE api_tokens SET revoked_at = 1 WHERE name = 'wuhan'");
  const auto reply = Say("sunqi", "确认");
  EXPECT_NE(reply.find("通知未能发送"), std::string::npos) << reply;
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts"), 0);
}

}  // namespace
}  // namespace duijie::dialogs
