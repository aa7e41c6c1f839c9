#pragma once
#include <functional>

#include "bot/http/router.hpp"
#include "channels/wecom/crypto.hpp"
#include "channels/wecom/replay_cache.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/conversations.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

/// GET /wecom/callback (URL verification) and POST /wecom/callback (messages and events).
struct WeComDeps {
  const channels::wecom::Crypto* crypto = nullptr;  // null: not configured, the routes answer 503
  channels::wecom::ReplayCache* replay = nullptr;
  store::Writer& writer;
  const Clock& clock;
  const Logger& log;
  const dialogs::Catalogue& catalogue;
  std::chrono::seconds timestamp_window{300};
  std::function<void()> outbox_notify;                    // called after a callback queued messages; may be empty
  const dialogs::Conversations* conversations = nullptr;  // null: messages are stored, not answered
};

void AddWeComRoutes(Router& router, const WeComDeps& deps);

}  // namespace duijie::bot
