#include "channels/sms/callbacks.hpp"

#include <gtest/gtest.h>

#include "channels/sms/providers.hpp"

namespace duijie::channels::sms {
namespace {

TEST(SmsCallbacks, TencentReceiptsAndTheirDedupeKeys) {
  const auto r = ParseTencentReceipts(
      R"([{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86","mobile":"13711112222","report_status":"SUCCESS",
           "errmsg":"DELIVRD","description":"用户短信送达成功","sid":"x1"},
          {"mobile":"13711112222","report_status":"FAIL","errmsg":"MK:0001","sid":"x2"}])");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[0].key, "tencent:receipt:x1:SUCCESS:DELIVRD");
  EXPECT_EQ((*r)[0].provider_ref, "tencent:x1");
  EXPECT_TRUE((*r)[0].delivered);
  EXPECT_EQ((*r)[0].number, "+8613711112222") << "the number, for a receipt that overtakes its send";
  const auto whole = ParseTencentReceipts(
      R"([{"nationcode":"86","mobile":"+8613711112222","report_status":"SUCCESS","errmsg":"DELIVRD","sid":"x3"}])");
  ASSERT_TRUE(whole);
  EXPECT_EQ((*whole)[0].number, "+8613711112222") << "a number written whole keeps its own country code";
  EXPECT_FALSE((*r)[1].delivered);
  EXPECT_EQ((*r)[1].reason, "MK:0001");
}

TEST(SmsCallbacks, ABadItemRefusesTheWholeBatchNamingIt) {
  const auto r =
      ParseTencentReceipts(R"([{"sid":"x1","report_status":"SUCCESS"},{"sid":"x2","report_status":"MAYBE"}])");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "item 2: report_status is not SUCCESS|FAIL");
  EXPECT_FALSE(ParseTencentReceipts(R"({"sid":"x"})"));
  EXPECT_FALSE(ParseTencentReceipts("[1]"));
  EXPECT_FALSE(ParseAliyunReports(R"([{"biz_id":"b","success":"true"}])"));  // a string is not a boolean
  std::string big = "[";
  for (std::size_t i = 0; i <= kMaxBatch; ++i)
    big += std::string(i ? "," : "") + R"({"sid":"s","report_status":"FAIL"})";
  EXPECT_FALSE(ParseTencentReceipts(big + "]"));
}

TEST(SmsCallbacks, TencentReplyWithCountryCode) {
  const auto r = ParseTencentReply(
      R"({"extend":"","mobile":"13711112222","nationcode":"86","sign":"科技服务","text":"1 A7K","time":1457336869})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->number, "+8613711112222");
  EXPECT_EQ(r->text, "1 A7K");
  EXPECT_TRUE(r->key.starts_with("tencent:reply:+8613711112222:1457336869:"));
  EXPECT_FALSE(ParseTencentReply(R"({"mobile":"137x","text":"1","time":1})"));
  EXPECT_FALSE(ParseTencentReply(R"({"mobile":"13711112222","text":")" + std::string(5000, 'a') + R"(","time":1})"));
}

TEST(SmsCallbacks, AliyunReportsFindOurReferenceAndUpsAcceptEitherSequenceType) {
  const auto reports = ParseAliyunReports(
      R"([{"phone_number":"13711112222","success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1",
           "biz_id":"123^0","out_id":"dj42"},{"success":false,"err_code":"MK:0001","biz_id":"124^0","out_id":"other"}])");
  ASSERT_TRUE(reports);
  EXPECT_EQ((*reports)[0].outbox_id, 42);
  EXPECT_EQ((*reports)[0].provider_ref, "aliyun:123^0");
  EXPECT_EQ((*reports)[0].number, "+8613711112222");
  EXPECT_FALSE((*reports)[1].outbox_id);
  EXPECT_EQ((*reports)[1].number, "") << "not named";
  const auto ups = ParseAliyunUps(
      R"([{"phone_number":"13711112222","content":"TD","send_time":"2017-09-01 00:00:00","dest_code":"1234","sequence_id":1234567890},
          {"phone_number":"13711112222","content":"1","sequence_id":"1234567891","sign_name":"阿里云"}])");
  ASSERT_TRUE(ups);
  EXPECT_EQ((*ups)[0].key, "aliyun:up:1234567890");
  EXPECT_EQ((*ups)[1].key, "aliyun:up:1234567891");
  EXPECT_EQ((*ups)[0].number, "+8613711112222");
}

TEST(SmsCallbacks, TwilioFormsOnlyFinalStatusesAreReceipts) {
  const auto in = ParseTwilioInbound({{"MessageSid", "SM1"}, {"From", "+14155550100"}, {"Body", "Y"}});
  ASSERT_TRUE(in);
  EXPECT_EQ(in->key, "twilio:inbound:SM1");
  EXPECT_FALSE(ParseTwilioInbound({{"MessageSid", "SM1"}, {"From", "14155550100"}, {"Body", "Y"}}));
  const auto sent = ParseTwilioStatus({{"MessageSid", "SM1"}, {"MessageStatus", "sent"}});
  ASSERT_TRUE(sent);
  EXPECT_FALSE(*sent);
  const auto failed = ParseTwilioStatus(
      {{"MessageSid", "SM1"}, {"MessageStatus", "undelivered"}, {"ErrorCode", "30003"}, {"To", "+14155550100"}});
  ASSERT_TRUE(failed && *failed);
  EXPECT_EQ((*failed)->number, "+14155550100");
  EXPECT_EQ((*failed)->key, "twilio:status:SM1:undelivered");
  EXPECT_EQ((*failed)->reason, "undelivered 30003");
}

TEST(SmsForms, DecodeAndEncode) {
  const auto p = FormDecode("Body=1+%E6%8E%A5%E5%8F%97&From=%2B8613711112222&Empty=&Flag");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Params{{"Body", "1 接受"}, {"From", "+8613711112222"}, {"Empty", ""}, {"Flag", ""}}));
  EXPECT_FALSE(FormDecode("a=%E"));
  EXPECT_FALSE(FormDecode("a=%zz"));
  EXPECT_EQ(FormEncode({{"Body", "1 接受*"}}), "Body=1%20%E6%8E%A5%E5%8F%97%2A");
  EXPECT_EQ(Reference(42), "dj42");
  EXPECT_EQ(OutboxIdOf("dj42"), 42);
  EXPECT_FALSE(OutboxIdOf("dj42x"));
  EXPECT_FALSE(OutboxIdOf("42"));
  EXPECT_TRUE(IsMainlandMobile("+8613711112222"));
  EXPECT_FALSE(IsMainlandMobile("+85291234567"));
}

}  // namespace
}  // namespace duijie::channels::sms
