#pragma once
#include <filesystem>
#include <functional>
#include <string>

#include "bot/http/router.hpp"
#include "channels/email/mailgun.hpp"
#include "channels/email/parse.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/conversations.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

/// Email in (DESIGN.md §4 "/email/..."):
///   POST /email/inbound/{secret}       raw MIME (message/rfc822), e.g. piped from Postfix
///   POST /email/mailgun                a Mailgun route's forward (signed form)
///   GET  /email/unsubscribe/{token}    a page with one button
///   POST /email/unsubscribe/{token}    RFC 8058 one-click (List-Unsubscribe=One-Click) or the button
/// Every mail goes through the inbox keyed by its Message-ID, so a provider's retry changes
/// nothing twice. The conversation is found by the plus-address token, then In-Reply-To and
/// References (our Message-IDs carry the outbox id), then the sender. Auto-replies are kept and
/// never answered; a permanent bounce fails the message and suppresses the address.
struct EmailDeps {
  store::Writer& writer;
  const Clock& clock;
  const Logger& log;
  const dialogs::Catalogue& catalogue;
  std::string token_secret;
  std::string inbound_secret;       // empty: the raw route answers 404
  std::string mailgun_signing_key;  // empty: the Mailgun route answers 503
  std::chrono::seconds mailgun_max_age{900};
  channels::email::UsedTokens* used_tokens = nullptr;
  channels::email::ParseLimits limits;
  std::filesystem::path files_dir;
  std::function<void()> outbox_notify;  // may be empty
  const dialogs::Conversations* conversations = nullptr;
};

void AddEmailRoutes(Router& router, const EmailDeps& deps);

}  // namespace duijie::bot
