// The SMS channel through the real binary against loopback fake providers that verify every
// request with the vendors' own signing code (tests/peers/sms_fake.js): Tencent's
// tencentcloud-sdk-nodejs-common signer, Alibaba's @alicloud/pop-core, the twilio package.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sms_fake.hpp"
#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace duijie {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kSmsSecret = "test-callback-secret-0123";
constexpr const char* kPublic = "https://duijie.example.cn";
constexpr const char* kResearcher = "+8613711112222";

HttpResponse Post(std::uint16_t port, const std::string& target, const std::string& body,
                  const std::string& content_type, const std::string& extra_headers = "") {
  test::HttpConnection c(port, 20s);
  c.SendRaw("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type +
            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
            "Connection: close\r\n\r\n" + body);
  auto r = c.ReadResponse();
  if (!r) throw std::runtime_error("no response");
  return *r;
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + k + "=" + test::UrlEncode(v);
  return out;
}

class SmsEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string base = fake_.Base();
    const std::string templates = dir_.File("templates.json");
    std::ofstream(templates) << R"({
      "reply": {"params": ["text"], "text": "{text}", "tencent": "1001", "aliyun": "SMS_1001"},
      "opt_out_confirmation": {"urgent": true, "text": "您已退订。", "tencent": "1002", "aliyun": "SMS_1002"}
    })";
    db_ = dir_.File("duijie.db");
    duijie_ = std::make_unique<test::ChildProcess>(
        DUIJIE_BINARY, std::vector<std::string>{"serve"},
        std::map<std::string, std::string>{{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                                           {"DUIJIE_STORE_PATH", db_},
                                           {"DUIJIE_STORE_FILES_DIR", dir_.File("files")},
                                           {"DUIJIE_DISPATCHER_RETRY_BASE_MS", "10"},
                                           {"DUIJIE_LOG_LEVEL", "debug"},  // "outbox attempt" lines
                                           {"DUIJIE_SMS_PROVIDER", "tencent"},
                                           {"DUIJIE_SMS_SIGN_NAME", "科技服务"},
                                           {"DUIJIE_SMS_TENCENT_SECRET_ID", "AKIDfake"},
                                           {"DUIJIE_SMS_TENCENT_SECRET_KEY", "tencent-fake-secret"},
                                           {"DUIJIE_SMS_TENCENT_SDK_APP_ID", "1400006666"},
                                           {"DUIJIE_SMS_TENCENT_ENDPOINT", base + "/tencent"},
                                           {"DUIJIE_SMS_ALIYUN_ACCESS_KEY_ID", "LTAIfake"},
                                           {"DUIJIE_SMS_ALIYUN_ACCESS_KEY_SECRET", "aliyun-fake-secret"},
                                           {"DUIJIE_SMS_ALIYUN_ENDPOINT", base + "/aliyun"},
                                           {"DUIJIE_SMS_TWILIO_ACCOUNT_SID", "ACfake"},
                                           {"DUIJIE_SMS_TWILIO_AUTH_TOKEN", "twilio-fake-token"},
                                           {"DUIJIE_SMS_TWILIO_FROM", "+15005550006"},
                                           {"DUIJIE_SMS_TWILIO_ENDPOINT", base + "/twilio"},
                                           {"DUIJIE_SMS_PUBLIC_BASE_URL", kPublic},
                                           {"DUIJIE_SMS_CALLBACK_SECRET", kSmsSecret},
                                           {"DUIJIE_SMS_TEMPLATES_FILE", templates}});
    port_ = duijie_->WaitForPort();
  }

  json WaitSent(std::size_t count) { return fake_.WaitSent(count); }
  void Mode(const json& modes) { fake_.Mode(modes); }

  HttpResponse TencentReply(const std::string& text, std::int64_t time, const std::string& secret = kSmsSecret) {
    const json body = {{"extend", ""},       {"mobile", "13711112222"},
                       {"nationcode", "86"}, {"sign", "科技服务"},
                       {"text", text},       {"time", time}};
    return Post(port_, "/sms/tencent/" + secret + "/reply", body.dump(), "application/json");
  }

  std::int64_t Count(const std::string& sql) {
    store::ConnectionOptions o;
    o.read_only = true;
    store::Connection c(db_, o);
    return c.Db().execAndGet(sql).getInt64();
  }

  test::TempDir dir_;
  std::string db_;
  test::SmsFake fake_;
  std::unique_ptr<test::ChildProcess> duijie_;
  std::uint16_t port_ = 0;
};

TEST_F(SmsEndToEnd, RepliesReceiptsFailoverOptOutAndTwilio) {
  // A reply through Tencent's callback: acknowledged in Tencent's words, answered by SMS through
  // Tencent, signed so that Tencent's own SDK signer agrees.
  auto r = TencentReply("你好", 1700000001);
  ASSERT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), R"({"result":0,"errmsg":"OK"})");
  json seen = WaitSent(1);
  ASSERT_EQ(seen["sent"].size(), 1U) << seen.dump();
  EXPECT_TRUE(seen["refused"].empty()) << seen.dump();
  const json first = seen["sent"][0];
  EXPECT_EQ(first["provider"], "tencent");
  EXPECT_EQ(first["phone"], kResearcher);
  EXPECT_EQ(first["template"], "1001");
  EXPECT_EQ(first["sign"], "科技服务");
  EXPECT_TRUE(first["session"].get<std::string>().starts_with("dj"));

  // The same callback again (Tencent retries): acknowledged, nothing new.
  EXPECT_EQ(TencentReply("你好", 1700000001).result_int(), 200);
  // Receipts come after the send's outcome is recorded (an earlier one is answered 503, see below).
  duijie_->WaitForLine(R"("outcome":"sent")", 20s, 1);
  // A wrong secret: the answer of an unknown path, nothing stored.
  const auto inbox_before = Count("SELECT count(*) FROM inbox");
  EXPECT_EQ(TencentReply("你好", 1700000002, "wrong-secret-0000000000").result_int(), 404);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), inbox_before);
  EXPECT_EQ(Count("SELECT deliveries FROM inbox WHERE provider_key LIKE 'tencent:reply:%'"), 2);

  // The delivery receipt (twice, as Tencent may) marks the message delivered once.
  const json receipt = json::array({{{"user_receive_time", "2026-11-22 10:00:00"},
                                     {"nationcode", "86"},
                                     {"mobile", "13711112222"},
                                     {"report_status", "SUCCESS"},
                                     {"errmsg", "DELIVRD"},
                                     {"description", "用户短信送达成功"},
                                     {"sid", first["ref"]}}});
  for (int i = 0; i < 2; ++i) {
    r = Post(port_, std::string("/sms/tencent/") + kSmsSecret + "/status", receipt.dump(), "application/json");
    EXPECT_EQ(r.result_int(), 200);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE status = 'delivered'"), 1);
  EXPECT_EQ(
      Post(port_, std::string("/sms/tencent/") + kSmsSecret + "/status", "{not json", "application/json").result_int(),
      400);

  // Tencent throttles: the same attempt goes to Alibaba, whose request pop-core verifies.
  Mode({{"tencent", "limit"}});
  EXPECT_EQ(TencentReply("请问怎么注册", 1700000003).result_int(), 200);
  seen = WaitSent(2);
  ASSERT_EQ(seen["sent"].size(), 2U) << seen.dump();
  EXPECT_TRUE(seen["refused"].empty()) << seen.dump();
  const json second = seen["sent"][1];
  EXPECT_EQ(second["provider"], "aliyun");
  EXPECT_EQ(second["phone"], "13711112222");
  EXPECT_EQ(second["template"], "SMS_1001");
  EXPECT_FALSE(second["params"]["text"].get<std::string>().empty());

  duijie_->WaitForLine(R"("outcome":"sent")", 20s, 2);
  // Alibaba's report finds the message by our OutId; the acknowledgement is Alibaba's.
  const json report = json::array({{{"phone_number", "13711112222"},
                                    {"send_time", "2026-11-22 10:00:00"},
                                    {"report_time", "2026-11-22 10:00:05"},
                                    {"success", true},
                                    {"err_code", "DELIVERED"},
                                    {"err_msg", "用户接收成功"},
                                    {"sms_size", "1"},
                                    {"biz_id", second["ref"]},
                                    {"out_id", second["session"]}}});
  r = Post(port_, std::string("/sms/aliyun/") + kSmsSecret + "/report", report.dump(), "application/json");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(json::parse(r.body()), json::parse(R"({"code":0,"msg":"接收成功"})"));
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE status = 'delivered'"), 2);

  // TD through Alibaba's SmsUp: suppressed at once, confirmed once.
  const json td = json::array({{{"phone_number", "13711112222"},
                                {"content", "TD"},
                                {"send_time", "2026-11-22 10:01:00"},
                                {"dest_code", "1234"},
                                {"sequence_id", 987654321}}});
  EXPECT_EQ(Post(port_, std::string("/sms/aliyun/") + kSmsSecret + "/up", td.dump(), "application/json").result_int(),
            200);
  seen = WaitSent(3);
  ASSERT_EQ(seen["sent"].size(), 3U) << seen.dump();
  EXPECT_EQ(seen["sent"][2]["template"], "SMS_1002");
  EXPECT_EQ(Count("SELECT count(*) FROM suppressions WHERE channel = 'sms' AND address = '+8613711112222'"), 1);
  const json td_again = json::array({{{"phone_number", "13711112222"},
                                      {"content", "退订"},
                                      {"send_time", "2026-11-22 10:02:00"},
                                      {"sequence_id", "987654322"}}});
  EXPECT_EQ(
      Post(port_, std::string("/sms/aliyun/") + kSmsSecret + "/up", td_again.dump(), "application/json").result_int(),
      200);
  // A message after the opt-out is answered on no SMS: the gate refuses it.
  EXPECT_EQ(TencentReply("还在吗", 1700000004).result_int(), 200);
  duijie_->WaitForLine("refused by the channel's rules", 20s);  // the refusal is recorded before anything is sent
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE last_error LIKE 'SMS suppressed%'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE kind = 'opt_out_confirmation'"), 1);

  // Twilio: a reply signed by the twilio package's own helper is accepted and answered through
  // Twilio's REST API; the same request tampered with is refused and stores nothing.
  const std::vector<std::pair<std::string, std::string>> params = {{"MessageSid", "SM11111111111111111111111111111111"},
                                                                   {"AccountSid", "ACfake"},
                                                                   {"From", "+14155550100"},
                                                                   {"To", "+15005550006"},
                                                                   {"Body", "Hello 你好"},
                                                                   {"NumMedia", "0"}};
  json pmap = json::object();
  for (const auto& [k, v] : params) pmap[k] = v;
  const std::string url = std::string(kPublic) + "/sms/twilio/inbound";
  const auto sig = fake_.TwilioSignature("twilio-fake-token", url, pmap);
  auto tampered = params;
  tampered[4].second = "Hello 你好!";
  const auto inbox_twilio = Count("SELECT count(*) FROM inbox");
  EXPECT_EQ(Post(port_, "/sms/twilio/inbound", Form(tampered), "application/x-www-form-urlencoded",
                 "X-Twilio-Signature: " + sig + "\r\n")
                .result_int(),
            403);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), inbox_twilio);
  r = Post(port_, "/sms/twilio/inbound", Form(params), "application/x-www-form-urlencoded",
           "X-Twilio-Signature: " + sig + "\r\n");
  ASSERT_EQ(r.result_int(), 200);
  EXPECT_NE(r.body().find("<Response/>"), std::string::npos);
  seen = WaitSent(4);
  ASSERT_EQ(seen["sent"].size(), 4U) << seen.dump();
  EXPECT_EQ(seen["sent"][3]["provider"], "twilio");
  EXPECT_EQ(seen["sent"][3]["phone"], "+14155550100");
  EXPECT_EQ(seen["sent"][3]["callback"], std::string(kPublic) + "/sms/twilio/status");
  EXPECT_TRUE(seen["refused"].empty()) << seen.dump();
}

TEST_F(SmsEndToEnd, ANumberTheProviderBlacklistedIsNotTriedAgain) {
  // Tencent refuses the number inside its 200: the answer fails and the number is suppressed.
  Mode({{"tencent", "blacklist"}});
  ASSERT_EQ(TencentReply("你好", 1700000101).result_int(), 200);
  duijie_->WaitForLine("outbox message failed", 20s);
  EXPECT_EQ(Count("SELECT count(*) FROM suppressions WHERE channel = 'sms' AND address = '+8613711112222' "
                  "AND reason = 'blacklist' AND source LIKE 'tencent: FailedOperation.PhoneNumberInBlacklist%'"),
            1);
  // Later SMS to it are refused by the rules before any request; "订阅" does not lift a blacklist.
  Mode({{"tencent", "ok"}});
  ASSERT_EQ(TencentReply("订阅", 1700000102).result_int(), 200);
  ASSERT_EQ(TencentReply("还在吗", 1700000103).result_int(), 200);
  duijie_->WaitForLine("refused by the channel's rules", 20s, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM suppressions WHERE reason = 'blacklist'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE last_error LIKE 'SMS suppressed%'"), 2);
  EXPECT_TRUE(fake_.Seen()["sent"].empty()) << fake_.Seen().dump();
}

TEST_F(SmsEndToEnd, ChatTextsAsEachProviderWouldAndShowsTheAnswers) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  const std::map<std::string, std::string> env = {{"DUIJIE_STORE_PATH", db_},
                                                  {"DUIJIE_SMS_CALLBACK_SECRET", kSmsSecret},
                                                  {"DUIJIE_SMS_SIGN_NAME", "科技服务"},
                                                  {"DUIJIE_SMS_TWILIO_ACCOUNT_SID", "ACfake"},
                                                  {"DUIJIE_SMS_TWILIO_AUTH_TOKEN", "twilio-fake-token"},
                                                  {"DUIJIE_SMS_TWILIO_FROM", "+15005550006"},
                                                  {"DUIJIE_SMS_PUBLIC_BASE_URL", kPublic}};
  for (const char* provider : {"tencent", "aliyun"}) {
    const auto chat = test::RunCommand(
        DUIJIE_BINARY, {"chat", "--channel", "sms", "--provider", provider, "--from", "+8613700000001", "--url", url},
        env, dir_.Path().string(), "你好\n帮助\n/quit\n");
    EXPECT_EQ(chat.exit_code, 0) << chat.err;
    EXPECT_NE(chat.out.find("duijie (SMS): "), std::string::npos) << provider << ": " << chat.out;
    EXPECT_EQ(chat.out.find("! "), std::string::npos) << chat.out;
  }
  const auto twilio = test::RunCommand(
      DUIJIE_BINARY, {"chat", "--channel", "sms", "--provider", "twilio", "--from", "+14155550123", "--url", url}, env,
      dir_.Path().string(), "hello\n/quit\n");
  EXPECT_EQ(twilio.exit_code, 0) << twilio.err;
  EXPECT_NE(twilio.out.find("duijie (SMS): "), std::string::npos) << twilio.out;
  // Without the secret it says what to set; a number that is not E.164 is a usage error.
  auto missing = env;
  missing.erase("DUIJIE_SMS_CALLBACK_SECRET");
  const auto no_secret = test::RunCommand(DUIJIE_BINARY, {"chat", "--channel", "sms", "--from", "+8613700000001"},
                                          missing, dir_.Path().string(), "hi\n");
  EXPECT_EQ(no_secret.exit_code, 1);
  EXPECT_NE(no_secret.err.find("DUIJIE_SMS_CALLBACK_SECRET"), std::string::npos) << no_secret.err;
  EXPECT_EQ(test::RunCommand(DUIJIE_BINARY, {"chat", "--channel", "sms", "--from", "137"}, env).exit_code, 2);
}

}  // namespace
}  // namespace duijie
