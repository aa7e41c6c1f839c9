#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>

#include "channels/sender.hpp"
#include "channels/wecom/api_client.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "dialogs/conversations.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

/// Pulls 微信客服 messages (spec §6.2). A kf_msg_or_event callback carries no content, only a
/// token; the callback handler queues a sync task on the outbox (channel `wecom_kf_sync`, the
/// recipient is the open_kfid) so it is retried with backoff and survives a crash, and this
/// "sender" runs it: kf/sync_msg page by page from the stored cursor, each page committed in one
/// transaction with its inbox rows (deduplicated by msgid), the opened reply windows, the answers
/// queued for `wecom_kf` and the new cursor. A second task for an account whose sync is running
/// is folded into it (the running sync pulls once more). Runs on the dispatcher's strand.
class KfSync final : public channels::Sender {
 public:
  KfSync(channels::wecom::ApiClient& api, store::Writer& writer, const Clock& clock,
         const dialogs::Conversations& conversations, const Logger& log, std::function<void()> outbox_notify)
      : api_(api),
        writer_(writer),
        clock_(clock),
        conversations_(conversations),
        log_(log),
        outbox_notify_(std::move(outbox_notify)) {}

  [[nodiscard]] std::string_view Name() const override { return "wecom_kf_sync"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  /// Pulling again is harmless (cursor and inbox make it idempotent): a lost sync is redone.
  net::awaitable<channels::LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  // Pulls until the account has nothing more; returns the outcome of the last call.
  net::awaitable<store::AttemptRecord> Pull(const std::string& open_kfid, std::string token);

  channels::wecom::ApiClient& api_;
  store::Writer& writer_;
  const Clock& clock_;
  const dialogs::Conversations& conversations_;
  const Logger& log_;
  std::function<void()> outbox_notify_;
  std::set<std::string> running_;             // accounts being pulled now
  std::map<std::string, std::string> again_;  // accounts to pull once more, with the newest token
};

}  // namespace duijie::bot
