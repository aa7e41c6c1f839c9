// A 微信客服 sync_msg answer as WeCom's API returns it, and the events the gateway derives.
#include <nlohmann/json.hpp>

#include "channels/wecom/kf_message.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wecom = duijie::channels::wecom;
  const auto answer = nlohmann::json::parse(duijie::fuzz::Text(data, size), nullptr, false);
  if (answer.is_discarded()) return 0;
  const auto page = wecom::ParseSyncAnswer(answer);
  if (!page) return 0;
  for (const auto& m : page->messages) {
    (void)wecom::ToInboundEvent(m);
    (void)wecom::SplitKfAddress(wecom::KfAddress(m.open_kfid, m.external_userid));
  }
  return 0;
}
