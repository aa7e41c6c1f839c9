// Every official vector of spec §4 (TC3 classic and current, Alibaba GET/POST/SendSms, Twilio).
#include "channels/sms/signing.hpp"

#include <gtest/gtest.h>

namespace duijie::channels::sms {
namespace {

constexpr std::string_view kT1Payload =
    R"({"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]})";

Tc3Input T1() {
  Tc3Input in;
  in.secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
  in.secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
  in.service = "cvm";
  in.host = "cvm.tencentcloudapi.com";
  in.content_type = "application/json; charset=utf-8";
  in.payload = kT1Payload;
  in.timestamp = 1551113065;
  return in;
}

TEST(Tc3, ClassicDocumentExample) {
  const auto s = SignTc3(T1());
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;"
            "host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
  EXPECT_EQ(s.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
  EXPECT_EQ(s.signature, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
  EXPECT_EQ(s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
            "SignedHeaders=content-type;host, "
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
}

TEST(Tc3, CurrentDocumentExampleSignsTheActionLowerCased) {
  Tc3Input in = T1();
  const std::string id = "AKID" + std::string(32, '*');
  const std::string key(32, '*');
  in.secret_id = id;
  in.secret_key = key;
  in.extra_headers = {{"X-TC-Action", "DescribeInstances"}};
  const auto s = SignTc3(in);
  EXPECT_NE(s.canonical_request.find("x-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n"),
            std::string::npos);
  EXPECT_EQ(s.signature, "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
  EXPECT_EQ(s.authorization,
            "TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, "
            "SignedHeaders=content-type;host;x-tc-action, "
            "Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
}

TEST(Tc3, ExampleKeysWithTheActionSigned) {
  Tc3Input in = T1();
  in.extra_headers = {{"X-TC-Action", "DescribeInstances"}};
  EXPECT_EQ(SignTc3(in).signature, "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26");
}

TEST(Tc3, NodeSdkVectorWithoutCharset) {
  Tc3Input in;
  in.secret_id = "test-secret-id";
  in.secret_key = "test-secret-key";
  in.service = "cvm";
  in.host = "cvm.tencentcloudapi.com";
  in.content_type = "application/json";
  in.payload = R"({"Action":"DescribeInstances","Version":"2017-03-12"})";
  in.timestamp = 1640995200;
  EXPECT_EQ(SignTc3(in).authorization,
            "TC3-HMAC-SHA256 Credential=test-secret-id/2022-01-01/cvm/tc3_request, SignedHeaders=content-type;host, "
            "Signature=96473b50fe407833672a5d6d067238d88bb44c8abcc39ef83baa3132afbfadd3");
}

TEST(Tc3, SendSmsRequest) {
  Tc3Input in = T1();
  in.service = "sms";
  in.host = "sms.tencentcloudapi.com";
  in.timestamp = 1700000000;
  const std::string payload =
      R"({"PhoneNumberSet":["+8613711112222"],"SmsSdkAppId":"1400006666","SignName":"腾讯云","TemplateId":"1110","TemplateParamSet":["4370"],"SessionContext":"push-42"})";
  in.payload = payload;
  const auto s = SignTc3(in);
  EXPECT_NE(s.canonical_request.find("00a96f4fd3805905afb1bb6c3cda4631a4db89dd1f6fa0643f26b07faada129e"),
            std::string::npos);
  EXPECT_NE(s.string_to_sign.find("f374e72223fb69b94079a7e07831265247559de58a35c55325dda8d78e1daffb"),
            std::string::npos);
  EXPECT_EQ(s.signature, "ba51b0ad6d81881ddce0aa0fbf339ef20b5ef3782fbebd2d9d0fa6fea31adb5c");
}

TEST(Tc3, ScopeDateIsUtcNotBeijing) {
  EXPECT_EQ(UtcDate(1551113065), "2019-02-25");  // 00:44 on the 26th in UTC+8
  EXPECT_EQ(UtcDate(0), "1970-01-01");
  EXPECT_EQ(UtcIso8601(1468291339), "2016-07-12T02:42:19Z");
}

Params A1() {
  return {{"AccessKeyId", "testid"},
          {"Action", "DescribeRegions"},
          {"Format", "XML"},
          {"SignatureMethod", "HMAC-SHA1"},
          {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
          {"SignatureVersion", "1.0"},
          {"Timestamp", "2016-02-23T12:46:24Z"},
          {"Version", "2014-05-26"}};
}

TEST(Aliyun, GenericRpcExample) {
  EXPECT_EQ(AliyunCanonicalQuery(A1()),
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-"
            "83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26");
  EXPECT_EQ(AliyunStringToSign("GET", A1()),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-"
            "SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-"
            "02-23T12%253A46%253A24Z%26Version%3D2014-05-26");
  EXPECT_EQ(AliyunSignature("GET", A1(), "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  EXPECT_EQ(AliyunSignature("POST", A1(), "testsecret"), "MxbnVAM4w6sft9xjVpe/GCKueuk=");
}

Params A2(std::string id) {
  // Deliberately unsorted: the signer sorts.
  return {{"Version", "2017-05-25"},
          {"AccessKeyId", std::move(id)},
          {"Action", "SendSms"},
          {"Format", "XML"},
          {"OutId", "123"},
          {"PhoneNumbers", "15300000001"},
          {"RegionId", "cn-hangzhou"},
          {"SignName", "阿里云短信测试专用"},
          {"SignatureMethod", "HMAC-SHA1"},
          {"SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"},
          {"SignatureVersion", "1.0"},
          {"TemplateCode", "SMS_71390007"},
          {"TemplateParam", R"({"customer":"test"})"},
          {"Timestamp", "2017-07-12T02:42:19Z"}};
}

TEST(Aliyun, SendSmsExampleWithChineseSignName) {
  EXPECT_EQ(AliyunSignature("GET", A2("testId"), "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
  EXPECT_EQ(AliyunSignature("POST", A2("testId"), "testSecret"), "Xvhv7fPXrPkLVSnlt0jIr08o8NQ=");
  // The lower-case variant a public repository mistook for a mismatch.
  EXPECT_EQ(AliyunSignature("GET", A2("testid"), "testsecret"), "LxugEBqtL8lacmz/6I2QOoMzw+Y=");
  EXPECT_NE(AliyunStringToSign("GET", A2("testId"))
                .find("SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%"
                      "25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26"),
            std::string::npos);
}

TEST(Aliyun, SignatureParameterIsNeverSigned) {
  Params p = A1();
  p.emplace_back("Signature", "whatever");
  EXPECT_EQ(AliyunSignature("GET", p, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
}

TEST(Aliyun, PercentEncodingIsRfc3986Strict) {
  EXPECT_EQ(AliyunPercentEncode("a b*c~d!'()+/=&"), "a%20b%2Ac~d%21%27%28%29%2B%2F%3D%26");
  EXPECT_EQ(AliyunPercentEncode("派"), "%E6%B4%BE");
  EXPECT_EQ(AliyunPercentEncode("2016-02-23T12:46:24Z"), "2016-02-23T12%3A46%3A24Z");
}

Params TwilioParams(std::string caller) {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", caller},
          {"Digits", "1234"},
          {"From", caller},
          {"To", "+18005551212"}};
}

constexpr std::string_view kTwilioUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";

TEST(Twilio, SdkVectors) {
  EXPECT_EQ(TwilioSignature("12345", kTwilioUrl, TwilioParams("+14158675309")), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  EXPECT_EQ(TwilioSignature("12345", kTwilioUrl, TwilioParams("+12349013030")), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  EXPECT_EQ(TwilioSignature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", TwilioParams("+14158675309")),
            "kvajT1Ptam85bY51eRf/AJRuM3w=");
  EXPECT_EQ(TwilioSignature("12345", "http://mycompany.com:80/myapp.php?foo=1&bar=2", TwilioParams("+14158675309")),
            "0ZXoZLH/DfblKGATFgpif+LLRf4=");
  EXPECT_EQ(TwilioSignature("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", TwilioParams("+14158675309")),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
}

TEST(Twilio, RepeatedNamesAppendSortedValues) {
  const Params p = {{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}};
  EXPECT_EQ(TwilioSignature("12345", kTwilioUrl, p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST(Twilio, JsonBodyHashInTheUrl) {
  const std::string url =
      std::string(kTwilioUrl) + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  EXPECT_EQ(TwilioSignature("12345", url, {}), "a9nBmqA0ju/hNViExpshrM61xv4=");
}

TEST(Twilio, ChineseBodyAndEmptyValues) {
  const Params p = {{"ToCountry", "US"},
                    {"ToState", "CA"},
                    {"SmsMessageSid", "SM11111111111111111111111111111111"},
                    {"NumMedia", "0"},
                    {"ToCity", ""},
                    {"FromZip", ""},
                    {"SmsSid", "SM11111111111111111111111111111111"},
                    {"FromState", ""},
                    {"SmsStatus", "received"},
                    {"FromCity", ""},
                    {"Body", "1 接受"},
                    {"FromCountry", "CN"},
                    {"To", "+15005550006"},
                    {"ToZip", ""},
                    {"NumSegments", "1"},
                    {"MessageSid", "SM11111111111111111111111111111111"},
                    {"AccountSid", "AC00000000000000000000000000000000"},
                    {"From", "+8613711112222"},
                    {"ApiVersion", "2010-04-01"}};
  EXPECT_EQ(TwilioSignature("secret-token", "https://example.com/twilio/sms", p), "GUZ+5d60by0x1Vhip4mUSAAgH2U=");
}

TEST(Twilio, ValidationAcceptsEitherPortFormAndRefusesTampering) {
  const auto p = TwilioParams("+14158675309");
  EXPECT_TRUE(TwilioValidate("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kTwilioUrl, p));
  // Signed with :443, configured without it; and the other way round.
  EXPECT_TRUE(TwilioValidate("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", kTwilioUrl, p));
  EXPECT_TRUE(
      TwilioValidate("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "https://mycompany.com:443/myapp.php?foo=1&bar=2", p));
  EXPECT_FALSE(TwilioValidate("12346", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kTwilioUrl, p));
  EXPECT_FALSE(TwilioValidate("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8", kTwilioUrl, p));
  EXPECT_FALSE(TwilioValidate("12345", "", kTwilioUrl, p));
  auto tampered = p;
  tampered[2].second = "1235";
  EXPECT_FALSE(TwilioValidate("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kTwilioUrl, tampered));
  EXPECT_FALSE(
      TwilioValidate("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "http://mycompany.com/myapp.php?foo=1&bar=2", p));
}

}  // namespace
}  // namespace duijie::channels::sms
