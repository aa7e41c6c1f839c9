#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "channels/sender.hpp"
#include "channels/wecom/api_client.hpp"
#include "channels/wecom/kf_message.hpp"
#include "common/error.hpp"
#include "dialogs/message.hpp"
#include "store/writer.hpp"

namespace duijie::channels::wecom {

/// Opens or renews the reply window of `address` (call in the transaction that stores the message).
void OpenReplyWindow(store::Connection& conn, std::string_view address, std::int64_t now_ms);

/// Sends outbox messages of channel `wecom_kf` with kf/send_msg (text, split at 2048 bytes); a
/// message carrying params.welcome_code goes through kf/send_msg_on_event instead (the welcome
/// to enter_session, outside the window). Each part takes one of the window's answers first; a closed window (or
/// WeCom's 95001/95002) fails the message for good, so the outbox falls back to the person's next channel instead of
/// failing silently.
class KfSender final : public channels::Sender {
 public:
  KfSender(ApiClient& api, store::Writer& writer, const Clock& clock) : api_(api), writer_(writer), clock_(clock) {}

  [[nodiscard]] std::string_view Name() const override { return kKfChannel; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  ApiClient& api_;
  store::Writer& writer_;
  const Clock& clock_;
};

}  // namespace duijie::channels::wecom
