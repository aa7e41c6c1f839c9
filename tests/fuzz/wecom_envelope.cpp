// The XML envelope of a WeCom callback and of a passive reply: any bytes a POST may carry.
#include "channels/wecom/message.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = duijie::fuzz::Text(data, size);
  (void)duijie::channels::wecom::ParseEnvelope(body);
  (void)duijie::channels::wecom::ParseReplyEnvelope(body);
  return 0;
}
