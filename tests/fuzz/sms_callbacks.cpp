// Every SMS callback body: Tencent's JSON receipts and replies, Alibaba's report and reply
// arrays, Twilio's form posts. The first byte chooses the parser.
#include "channels/sms/callbacks.hpp"
#include "fuzz.hpp"

namespace {

// A form body as the route hands it over: k=v pairs split on & (the route percent-decodes).
duijie::channels::sms::Params Form(std::string_view body) {
  duijie::channels::sms::Params out;
  for (const auto pair : duijie::fuzz::Split(body, 64, '&')) {
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sms = duijie::channels::sms;
  if (size == 0) return 0;
  const auto body = duijie::fuzz::Text(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      (void)sms::ParseTencentReceipts(body);
      break;
    case 1:
      (void)sms::ParseTencentReply(body);
      break;
    case 2:
      (void)sms::ParseAliyunReports(body);
      break;
    case 3:
      (void)sms::ParseAliyunUps(body);
      break;
    case 4:
      (void)sms::ParseTwilioInbound(Form(body));
      break;
    default:
      (void)sms::ParseTwilioStatus(Form(body));
      break;
  }
  return 0;
}
