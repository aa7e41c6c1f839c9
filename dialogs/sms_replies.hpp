#pragma once
#include <string>
#include <vector>

#include "dialogs/catalogue.hpp"
#include "dialogs/conversations.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// One SMS a person sent, as a provider reported it.
struct SmsReply {
  std::string number;  // E.164
  std::string text;
  std::string provider;  // 'tencent', 'aliyun', 'twilio'
  std::string key;       // the inbox key: makes the answers' idempotency keys
};

/// How a reply was understood, for logs and tests.
enum class SmsReplyRoute { kOptOut, kAlreadyOptedOut, kPushAnswered, kAskedWhichPush, kConversation };

struct SmsReplyResult {
  SmsReplyRoute route = SmsReplyRoute::kConversation;
  std::vector<store::NewOutboxMessage> outbox;  // answers, by SMS to the number
};

/// The business side of an SMS reply, in the caller's (inbox) transaction:
/// - an unsubscribe keyword suppresses SMS to the number at once (other channels still work)
///   and queues one confirmation; repeating it changes nothing;
/// - 1 / 2 (and their synonyms) answer the person's open push: the one its reply code names,
///   else the only push sent in the last 72 hours; with several open and no code, the person is
///   asked once which one, by code;
/// - anything else is a conversation message (registration, questions, ...).
SmsReplyResult ProcessSmsReply(store::Connection& conn, const Conversations& conversations, const Catalogue& catalogue,
                               const SmsReply& reply, Clock::TimePoint now);

}  // namespace duijie::dialogs
