// Inbound mail as a mail server hands it over: MIME structure, transfer and header encodings,
// charsets, addresses, message ids, HTML to text.
#include "channels/email/parse.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace email = duijie::channels::email;
  const auto raw = duijie::fuzz::Text(data, size);
  email::ParseLimits limits;
  limits.max_bytes = 1U << 20U;
  (void)email::ParseMail(raw, limits);
  (void)email::DecodeHeaderText(raw);
  (void)email::ParseAddressList(raw);
  (void)email::ParseMessageIds(raw);
  (void)email::HtmlToText(raw, true);
  const auto parts = duijie::fuzz::Split(raw, 2);
  (void)email::ToUtf8(parts[1], parts[0]);
  (void)email::DecodeTransfer(parts[1], parts[0]);
  return 0;
}
