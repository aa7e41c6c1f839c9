// An SMS reply as a researcher's phone sends it: normalised and read as accept / decline /
// unsubscribe / reply code / text.
#include "dialogs/reply_grammar.hpp"

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = duijie::fuzz::Text(data, size);
  (void)duijie::dialogs::NormalizeReply(text);
  (void)duijie::dialogs::ParseReply(text);
  (void)duijie::dialogs::IsReplyCode(text);
  return 0;
}
