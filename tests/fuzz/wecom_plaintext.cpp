// The decrypted plaintext XML of a WeCom callback, and what the gateway derives from it.
#include "channels/wecom/message.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wecom = duijie::channels::wecom;
  const auto parsed = wecom::ParsePlaintext(duijie::fuzz::Text(data, size));
  if (!parsed) return 0;
  (void)wecom::DedupeKey(*parsed);
  (void)wecom::ToInboundEvent(*parsed);
  (void)wecom::TextReplyPlaintext(*parsed, "收到", 1'700'000'000);
  (void)wecom::CardUpdateAfterClick(*parsed, "已处理");
  return 0;
}
