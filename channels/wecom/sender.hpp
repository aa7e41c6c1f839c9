#pragma once
#include <string>

#include "channels/sender.hpp"
#include "channels/wecom/api_client.hpp"
#include "channels/wecom/render.hpp"

namespace duijie::channels::wecom {

/// Sends outbox messages as WeCom app messages (message/send; update_template_card for a
/// card_update), rendered by RenderAppMessage; a long text goes out as several messages. Errors
/// are classified by ApiClient; a member WeCom lists in `invaliduser` is reported by id (final when nobody was
/// reached); a timeout after the request left is unknown (WeCom has no API to ask, so it is not resent).
class Sender final : public channels::Sender {
 public:
  explicit Sender(ApiClient& api) : api_(api) {}

  [[nodiscard]] std::string_view Name() const override { return "wecom"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  // One API call, with WeCom's per-recipient answer read.
  net::awaitable<store::AttemptRecord> Call(const ApiCall& call, std::string_view recipient);

  ApiClient& api_;
};

}  // namespace duijie::channels::wecom
