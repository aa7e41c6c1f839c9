// The SMS providers in-process against the loopback fakes (tests/peers/sms_fake.js), which
// recompute every signature with the vendors' own code: odd characters and Chinese variables,
// many sends, and the faults that decide "never twice" (timeout after acceptance, 5xx,
// throttling, a blacklisted number, bad credentials).
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bot/dispatcher.hpp"
#include "channels/curl_http_client.hpp"
#include "channels/sms/policy.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/sender.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/pushes.hpp"
#include "sms_fake.hpp"
#include "store/writer.hpp"
#include "support/fakes.hpp"
#include "support/http_client.hpp"
#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::channels::sms {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using store::AttemptOutcome;
using store::Recovery;

constexpr const char* kNumber = "+8613711112222";
constexpr std::string_view kTemplates = R"({
  "notice": {"params": ["name", "title"], "text": "{name}您好：{title}", "tencent": "2001", "aliyun": "SMS_2001"}
})";

class SmsProvidersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fake_.Base();
    tencent_.emplace(http_, clock_,
                     TencentSettings{base_ + "/tencent", "ap-guangzhou", "AKIDfake", "tencent-fake-secret",
                                     "1400006666", "科技服务", 1500ms});
    aliyun_.emplace(
        http_, clock_,
        AliyunSettings{base_ + "/aliyun", "cn-hangzhou", "LTAIfake", "aliyun-fake-secret", "科技服务", 1500ms});
  }

  SmsRequest Request(const std::string& name, const std::string& title, const std::string& session) {
    auto r = templates_.Render("notice", {{"name", name}, {"title", title}}, "科技服务");
    if (!r) throw std::runtime_error(r.error().message);
    return {kNumber, std::move(*r), session, ""};
  }
  template <class T>
  T Run(net::awaitable<T> aw) {
    return test::RunAwaitable(ioc_, std::move(aw));
  }
  json Seen() { return fake_.Seen(); }
  void Mode(const json& modes) { fake_.Mode(modes); }

  Templates templates_ = *Templates::Parse(kTemplates);
  test::SmsFake fake_;
  std::string base_;
  SystemClock clock_;
  // Before the client: its threads are joined (a late completion of a timed-out request posted)
  // before the context those completions go to is destroyed.
  net::io_context ioc_;
  CurlHttpClient http_{2};
  std::optional<TencentProvider> tencent_;
  std::optional<AliyunProvider> aliyun_;
};

TEST_F(SmsProvidersTest, OddCharactersAndChineseVariablesVerifyWithTheVendorsSigners) {
  const std::vector<std::string> odd = {"张老师", "a b*c~d!'()+/=&%20", "😀 表情", "引号\"与\\反斜杠", "换行\n制表\t"};
  int n = 0;
  for (const auto& value : odd) {
    const std::string session = "dj" + std::to_string(++n);
    EXPECT_EQ(Run(tencent_->Send(Request(value, "需求：" + value, session))).outcome, AttemptOutcome::kSent) << value;
    EXPECT_EQ(Run(aliyun_->Send(Request(value, "需求：" + value, session))).outcome, AttemptOutcome::kSent) << value;
  }
  const json seen = Seen();
  EXPECT_TRUE(seen["refused"].empty()) << seen["refused"].dump();
  ASSERT_EQ(seen["sent"].size(), odd.size() * 2);
  for (std::size_t i = 0; i < odd.size(); ++i) {
    EXPECT_EQ(seen["sent"][2 * i]["params"], json::array({odd[i], "需求：" + odd[i]}));  // Tencent: positional
    EXPECT_EQ(seen["sent"][2 * i + 1]["params"], json({{"name", odd[i]}, {"title", "需求：" + odd[i]}}));  // named
    EXPECT_EQ(seen["sent"][2 * i + 1]["phone"], "13711112222");
    EXPECT_EQ(seen["sent"][2 * i]["sign"], "科技服务");
  }
}

TEST_F(SmsProvidersTest, TwoHundredSendsAllVerify) {
  for (int i = 0; i < 200; ++i) {
    const auto r = Run(tencent_->Send(
        Request("研究员" + std::to_string(i), "第" + std::to_string(i) + "号需求", "dj" + std::to_string(1000 + i))));
    ASSERT_EQ(r.outcome, AttemptOutcome::kSent) << i << " " << r.error;
    ASSERT_TRUE(r.provider_ref.starts_with("tencent:5000:"));
  }
  const json seen = Seen();
  EXPECT_EQ(seen["sent"].size(), 200U);
  EXPECT_TRUE(seen["refused"].empty());
}

TEST_F(SmsProvidersTest, ATimeoutAfterAcceptanceIsUnknownAndTheLookupFindsItSoNothingIsResent) {
  Mode({{"tencent", "timeout"}, {"aliyun", "timeout"}});
  const auto t = Run(tencent_->Send(Request("张老师", "超时", "dj7")));
  EXPECT_EQ(t.outcome, AttemptOutcome::kUnknown) << t.error;
  const auto a = Run(aliyun_->Send(Request("张老师", "超时", "dj8")));
  EXPECT_EQ(a.outcome, AttemptOutcome::kUnknown) << a.error;
  Mode({{"tencent", "ok"}, {"aliyun", "ok"}});
  const std::string number = kNumber;
  const auto tl = Run(tencent_->Lookup(number, "dj7", 10s, ""));
  EXPECT_EQ(tl.recovery, Recovery::kWasSent);
  EXPECT_EQ(tl.sent_status, "delivered");
  EXPECT_TRUE(tl.provider_ref.starts_with("tencent:5000:"));
  EXPECT_EQ(Run(aliyun_->Lookup(number, "dj8", 10s, "")).recovery, Recovery::kWasSent);
  // Not found: Tencent's receipts may still come (unknown); Alibaba lists at once (lost after 5 min).
  EXPECT_EQ(Run(tencent_->Lookup(number, "dj9", 3600s, "")).recovery, Recovery::kStillUnknown);
  EXPECT_EQ(Run(aliyun_->Lookup(number, "dj9", 10s, "")).recovery, Recovery::kStillUnknown);
  EXPECT_EQ(Run(aliyun_->Lookup(number, "dj9", AliyunProvider::kListedWithin, "")).recovery, Recovery::kWasLost);
  EXPECT_EQ(Seen()["sent"].size(), 2U);  // the lookups sent nothing
}

TEST_F(SmsProvidersTest, AnUnknownOutcomeIsNeverFailedOverButARetryableOneIs) {
  SmsSender sender(templates_, "科技服务", Routes{&*tencent_, &*aliyun_, nullptr}, clock_);
  store::OutboxMessage msg;
  msg.id = 11;
  msg.recipient = kNumber;
  msg.payload = R"({"kind":"text","text":"","template_id":"notice","params":{"name":"张老师","title":"测试"}})";
  Mode({{"tencent", "timeout"}});
  EXPECT_EQ(Run(sender.Send(msg)).outcome, AttemptOutcome::kUnknown);
  Mode({{"tencent", "limit"}});
  msg.id = 12;
  const auto failover = Run(sender.Send(msg));
  EXPECT_EQ(failover.outcome, AttemptOutcome::kSent);
  EXPECT_EQ(failover.sender, "aliyun");
  const json sent = Seen()["sent"];
  ASSERT_EQ(sent.size(), 2U);  // the lost Tencent one and Alibaba's; never both for one message
  EXPECT_EQ(sent[0]["session"], "dj11");
  EXPECT_EQ(sent[1]["session"], "dj12");
  // The lookup of the unknown one asks both providers and finds it at Tencent.
  msg.id = 11;
  msg.updated_at = ToUnixMillis(clock_.Now());
  EXPECT_EQ(Run(sender.Lookup(msg)).recovery, Recovery::kWasSent);
}

TEST_F(SmsProvidersTest, FaultsAreClassified) {
  Mode({{"tencent", "http500"}, {"aliyun", "http500"}});
  EXPECT_EQ(Run(tencent_->Send(Request("a", "b", "dj1"))).outcome, AttemptOutcome::kRetryable);
  EXPECT_EQ(Run(aliyun_->Send(Request("a", "b", "dj1"))).outcome, AttemptOutcome::kRetryable);
  Mode({{"tencent", "limit"}});
  EXPECT_EQ(Run(tencent_->Send(Request("a", "b", "dj2"))).outcome, AttemptOutcome::kRetryable);
  // A 200 that refuses the number: final for that number, with the provider's code.
  Mode({{"tencent", "blacklist"}});
  const auto black = Run(tencent_->Send(Request("a", "b", "dj3")));
  EXPECT_EQ(black.outcome, AttemptOutcome::kFailed);
  EXPECT_TRUE(black.error.starts_with("FailedOperation.PhoneNumberInBlacklist")) << black.error;
  EXPECT_EQ(UnreachableReason(black), "blacklist");
  EXPECT_EQ(UnreachableReason({AttemptOutcome::kFailed, "aliyun", "", "isv.MOBILE_NUMBER_ILLEGAL 非法手机号"}),
            "invalid_number");
  EXPECT_EQ(UnreachableReason({AttemptOutcome::kRetryable, "tencent", "", "FailedOperation.PhoneNumberInBlacklist"}),
            std::nullopt);
  // Wrong credentials: refused by the fake's signature check, final.
  TencentProvider wrong(http_, clock_,
                        TencentSettings{base_ + "/tencent", "ap-guangzhou", "AKIDfake", "not-the-secret", "1400006666",
                                        "科技服务", 1500ms});
  Mode({{"tencent", "ok"}});
  const auto denied = Run(wrong.Send(Request("a", "b", "dj4")));
  EXPECT_EQ(denied.outcome, AttemptOutcome::kFailed);
  EXPECT_TRUE(denied.error.starts_with("AuthFailure.SignatureFailure")) << denied.error;
  AliyunProvider wrong_ali(http_, clock_,
                           AliyunSettings{base_ + "/aliyun", "cn-hangzhou", "LTAIfake", "nope", "科技服务", 1500ms});
  const auto denied_ali = Run(wrong_ali.Send(Request("a", "b", "dj5")));
  EXPECT_EQ(denied_ali.outcome, AttemptOutcome::kFailed);
  EXPECT_TRUE(denied_ali.error.starts_with("SignatureDoesNotMatch")) << denied_ali.error;
  // Unreachable (nothing listens): nothing was sent, retryable.
  TencentProvider gone(http_, clock_,
                       TencentSettings{"http://127.0.0.1:1", "ap-guangzhou", "AKIDfake", "x", "1", "科技服务", 500ms});
  EXPECT_EQ(Run(gone.Send(Request("a", "b", "dj6"))).outcome, AttemptOutcome::kRetryable);
  const json seen = Seen();
  EXPECT_EQ(seen["sent"].size(), 0U);
  EXPECT_EQ(seen["refused"].size(), 2U);
}

TEST_F(SmsProvidersTest, TwilioSendsTheTextWithBasicAuthAndRefusesBadCredentials) {
  TwilioProvider twilio(http_, TwilioSettings{base_ + "/twilio", "ACfake", "twilio-fake-token", "+15005550006", "",
                                              "https://duijie.example.cn/sms/twilio/status", 1500ms});
  auto req = Request("Dr. Li", "your match", "dj1");
  req.phone = "+14155550100";
  const auto ok = Run(twilio.Send(req));
  EXPECT_EQ(ok.outcome, AttemptOutcome::kSent);
  EXPECT_TRUE(ok.provider_ref.starts_with("twilio:SM"));
  TwilioProvider wrong(http_, TwilioSettings{base_ + "/twilio", "ACfake", "nope", "+15005550006", "", "", 1500ms});
  EXPECT_EQ(Run(wrong.Send(req)).outcome, AttemptOutcome::kFailed);
  const json sent = Seen()["sent"];
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0]["body"], "Dr. Li您好：your match");
  EXPECT_EQ(sent[0]["callback"], "https://duijie.example.cn/sms/twilio/status");
}

// Twilio keeps no reference of ours: a send whose answer was lost is found in the number's
// message list by its text, through the outbox sender, so it is never sent twice.
TEST_F(SmsProvidersTest, ATwilioSendWhoseAnswerWasLostIsFoundByItsTextNotResent) {
  TwilioProvider twilio(
      http_, TwilioSettings{base_ + "/twilio", "ACfake", "twilio-fake-token", "+15005550006", "", "", 1500ms});
  SmsSender sender(templates_, "科技服务", Routes{nullptr, nullptr, &twilio}, clock_);
  store::OutboxMessage msg;
  msg.id = 21;
  msg.recipient = "+14155550100";
  msg.payload = R"({"kind":"text","text":"","template_id":"notice","params":{"name":"Dr. Li","title":"lost answer"}})";
  msg.updated_at = ToUnixMillis(clock_.Now());
  Mode({{"twilio", "timeout"}});
  EXPECT_EQ(Run(sender.Send(msg)).outcome, AttemptOutcome::kUnknown);
  Mode({{"twilio", "ok"}});
  const auto found = Run(sender.Lookup(msg));
  EXPECT_EQ(found.recovery, Recovery::kWasSent);
  EXPECT_TRUE(found.provider_ref.starts_with("twilio:SM")) << found.provider_ref;
  EXPECT_EQ(found.provider_ref, "twilio:" + Seen()["sent"][0]["ref"].get<std::string>());
  EXPECT_EQ(found.sent_status, "delivered");
  // Another text to the same number was never taken: unknown at first, lost after the window.
  auto other = msg;
  other.id = 22;
  other.payload = R"({"kind":"text","text":"","template_id":"notice","params":{"name":"Dr. Li","title":"never"}})";
  EXPECT_EQ(Run(sender.Lookup(other)).recovery, Recovery::kStillUnknown);
  EXPECT_EQ(Run(twilio.Lookup(other.recipient, "dj22", TwilioProvider::kListedWithin, "Dr. Li您好：never")).recovery,
            Recovery::kWasLost);
  EXPECT_EQ(Seen()["sent"].size(), 1U) << "the lookups sent nothing";
}

TEST_F(SmsProvidersTest, ExtensionCodesGoWithMainlandSendsAndTheVendorsSignersAgree) {
  store::OutboxMessage msg;
  msg.id = 12345;
  msg.recipient = kNumber;
  msg.payload = R"({"kind":"text","text":"","template_id":"notice","params":{"name":"张老师","title":"扩展码"}})";
  SmsSender via_tencent(templates_, "科技服务", Routes{&*tencent_, nullptr, nullptr}, clock_, 4);
  SmsSender via_aliyun(templates_, "科技服务", Routes{&*aliyun_, nullptr, nullptr}, clock_, 4);
  SmsSender without(templates_, "科技服务", Routes{&*tencent_, nullptr, nullptr}, clock_);
  EXPECT_EQ(Run(via_tencent.Send(msg)).outcome, AttemptOutcome::kSent);
  EXPECT_EQ(Run(via_aliyun.Send(msg)).outcome, AttemptOutcome::kSent);
  EXPECT_EQ(Run(without.Send(msg)).outcome, AttemptOutcome::kSent);
  const json seen = Seen();
  EXPECT_TRUE(seen["refused"].empty()) << seen.dump();
  ASSERT_EQ(seen["sent"].size(), 3U);
  EXPECT_EQ(seen["sent"][0]["extend"], "2345");  // Tencent ExtendCode
  EXPECT_EQ(seen["sent"][1]["extend"], "2345");  // Alibaba SmsUpExtendCode
  EXPECT_FALSE(seen["sent"][2].contains("extend")) << "off: not sent at all";
}

// Pushes held by quiet hours and by the hourly cap go out as one digest SMS, through the real
// dispatcher, SMS rules and sender, signed for the vendor's fake, on a fake clock.
TEST_F(SmsProvidersTest, PushesHeldOvernightOrByTheCapGoOutAsOneDigest) {
  constexpr std::int64_t kNineThirtyPm = 1'795'440'600'000;  // 2026-11-23 21:30 Beijing
  constexpr std::int64_t kEightAm = 1'795'478'400'000;       // 2026-11-24 08:00 Beijing
  constexpr std::int64_t kMinute = 60'000;
  // The compiled-in templates, with the ids an operator would set.
  std::ifstream file(std::string(DUIJIE_PEERS_DIR) + "/../../config/sms/templates.json");
  std::stringstream text;
  text << file.rdbuf();
  json tpl = json::parse(text.str());
  tpl["match_push"]["tencent"] = "3001";
  tpl["match_digest"]["tencent"] = "3002";
  const auto templates = Templates::Parse(tpl.dump());
  ASSERT_TRUE(templates) << templates.error().message;

  test::TestDb db;
  db.SeedEnterprise("某风电公司");
  db.Conn().Db().exec(
      "INSERT INTO people (id, role, status, created_at, updated_at) VALUES (2, 'researcher', 'verified', 0, 0);"
      "INSERT INTO identities (person_id, kind, address, status, created_at) "
      "VALUES (2, 'mobile', '+8613711112222', 'verified', 0)");
  store::Writer writer(db.Path(), {});
  test::FakeClock clock(FromUnixMillis(kNineThirtyPm));
  SystemRandom random;
  const auto push = [&](int need, const std::string& title) {
    writer.RunSync([&](store::Connection& c) {
      c.Db().exec(
          "INSERT INTO needs (id, enterprise_id, programme_id, title, field, amount_wan, stage, created_at, "
          "updated_at) VALUES (" +
          std::to_string(need) + ", 1, 1, '" + title + "', 'energy', 30, 'published', 0, 0)");
      const std::vector<dialogs::PushCandidate> who{{2, 1, {"覆冰"}, "energy"}};
      for (const auto& m : dialogs::CreatePushes(c, dialogs::Programme::Embedded().at("hubei-2020"),
                                                 dialogs::Catalogue::Embedded(), need, who, random, clock.Now()))
        store::OutboxRepository::Enqueue(c, m, ToUnixMillis(clock.Now()));
      return 0;
    });
  };

  SmsSender sender(*templates, "科技服务", Routes{&*tencent_, nullptr, nullptr}, clock);
  bot::DispatcherOptions options;
  options.instance = "coalescing-test";
  options.gates["sms"] = [](store::Connection& c, const store::OutboxMessage& m, std::int64_t now_ms) {
    return CheckSms(c, m, now_ms, PolicySettings{});  // 21:00-08:00, 1 an hour, 3 a day
  };
  options.coalesce["sms"] = [](store::Connection& c, store::OutboxMessage& m, std::int64_t now_ms) {
    dialogs::CoalescePushes(c, dialogs::Catalogue::Embedded(), m, now_ms, 5);
  };
  bot::Metrics metrics;
  Logger log(clock, LogLevel::kOff);
  bot::Dispatcher dispatcher(ioc_.get_executor(), writer, {{"sms", &sender}}, clock, random, &metrics, log, options);
  const auto round = [&] {
    (void)test::RunOn(ioc_, dispatcher.Strand(), dispatcher.Round());
    test::RunOn(ioc_, dispatcher.Strand(), dispatcher.Drain());
  };
  const auto code_of = [&](int need) {
    return db.Conn()
        .Db()
        .execAndGet("SELECT reply_code FROM pushes WHERE need_id = " + std::to_string(need))
        .getString();
  };

  // Three needs published in the evening: nothing goes before 08:00.
  push(7, "风机叶片冬季覆冰");
  push(8, "锂电池低温衰减");
  push(9, "光伏板清洗机器人");
  round();
  EXPECT_TRUE(Seen()["sent"].empty());
  // At 08:00 one SMS carries the three, each with its reply code.
  clock.Set(FromUnixMillis(kEightAm));
  round();
  json seen = Seen();
  ASSERT_EQ(seen["sent"].size(), 1U) << seen.dump();
  EXPECT_TRUE(seen["refused"].empty());
  EXPECT_EQ(seen["sent"][0]["template"], "3002");
  json params = seen["sent"][0]["params"];
  ASSERT_EQ(params.size(), 3U);  // count, titles, code: the template's variables in order
  EXPECT_EQ(params[0], "3");
  for (const int need : {7, 8, 9}) EXPECT_NE(params[1].get<std::string>().find(code_of(need)), std::string::npos);
  EXPECT_EQ(params[2], code_of(7));
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox WHERE status = 'sent'"), 1);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox WHERE status = 'cancelled' AND merged_into IS NOT NULL"), 2);

  // Two more within the hour wait for the cap, then go together.
  clock.Set(FromUnixMillis(kEightAm + 10 * kMinute));
  push(10, "储能电站热管理");
  round();
  clock.Set(FromUnixMillis(kEightAm + 20 * kMinute));
  push(11, "氢燃料电池膜电极");
  round();
  EXPECT_EQ(Seen()["sent"].size(), 1U);
  clock.Set(FromUnixMillis(kEightAm + 60 * kMinute));
  round();
  seen = Seen();
  ASSERT_EQ(seen["sent"].size(), 2U) << seen.dump();
  params = seen["sent"][1]["params"];
  EXPECT_EQ(params[0], "2");
  EXPECT_NE(params[1].get<std::string>().find(code_of(10)), std::string::npos);
  EXPECT_NE(params[1].get<std::string>().find(code_of(11)), std::string::npos);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox WHERE status = 'sent'"), 2);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"), 0);
}

}  // namespace
}  // namespace duijie::channels::sms
