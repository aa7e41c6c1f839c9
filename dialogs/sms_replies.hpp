#pragma once
#include <string>
#include <vector>

#include "dialogs/catalogue.hpp"
#include "dialogs/conversations.hpp"
#include "dialogs/reply_grammar.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// One SMS a person sent, as a provider reported it.
struct SmsReply {
  std::string number;  // E.164
  std::string text;
  std::string provider;  // 'tencent', 'aliyun', 'twilio'
  std::string key;       // the inbox key: makes the answers' idempotency keys
  std::string extend;    // the extension code it came back on, when extension codes are on
};

/// How a reply was understood, for logs and tests.
enum class SmsReplyRoute {
  kOptOut,
  kAlreadyOptedOut,
  kResubscribed,
  kPushAnswered,
  kAskedWhichPush,
  kAcknowledged,
  kConversation
};

struct SmsReplyResult {
  SmsReplyRoute route = SmsReplyRoute::kConversation;
  std::vector<store::NewOutboxMessage> outbox;  // answers, by SMS to the number
};

/// How a reply that may answer a push was taken (any channel).
struct PushAnswer {
  SmsReplyRoute route = SmsReplyRoute::kPushAnswered;  // kPushAnswered or kAskedWhichPush
  std::string text;                                    // what to answer the person
};
/// If `reply` (already parsed) accepts or declines one of the person's open pushes — the one
/// its code names, else the only one sent in the last 72 hours — records the answer (status,
/// decline reason, transition) and returns the confirmation; with several open and no code,
/// returns the question which one. nullopt: not an answer to a push (the conversation takes it).
/// `among`, when not empty, are the reply codes of the pushes the reply can be about (those the
/// SMS it came back on carried): the question lists only those.
[[nodiscard]] std::optional<PushAnswer> AnswerOpenPush(store::Connection& conn, const Catalogue& catalogue,
                                                       std::int64_t person_id, const std::string& locale,
                                                       const ParsedReply& reply, std::string_view channel,
                                                       Clock::TimePoint now,
                                                       const std::vector<std::string>& among = {});

/// A click on a push card's button (WeCom): push `push_id` accepted or declined, if it is the
/// person's and still open; nullopt otherwise (a second click changes nothing).
[[nodiscard]] std::optional<PushAnswer> AnswerPushById(store::Connection& conn, const Catalogue& catalogue,
                                                       std::int64_t person_id, const std::string& locale,
                                                       std::int64_t push_id, bool accept, std::string_view channel,
                                                       Clock::TimePoint now);

/// A decline's free-text reason as the programme counts it: 'not_my_field' (不是我的领域, 专业不对口
/// …: weighs on later pushes of that field), 'no_time' (没时间, 太忙 …), else the text itself
/// (at most 200 bytes, cut on a character boundary); empty stays empty.
[[nodiscard]] std::string DeclineReason(std::string_view text);

/// The business side of an SMS reply, in the caller's (inbox) transaction:
/// - an unsubscribe keyword suppresses SMS to the number at once (other channels still work)
///   and queues one confirmation; repeating it changes nothing;
/// - 订阅 / 恢复短信 / START from a number that opted out lifts the opt-out (a carrier's
///   blacklist stays) and confirms;
/// - 1 / 2 (and their synonyms) answer the person's open push: the one its reply code names,
///   else the only push sent in the last 72 hours; with several open and no code, the person is
///   asked once which one, by code;
/// - with no push open, 1 / 确认 / 收到 acknowledge the latest reminder waiting for it (closing
///   it on every channel);
/// - anything else is a conversation message (registration, questions, ...).
SmsReplyResult ProcessSmsReply(store::Connection& conn, const Conversations& conversations, const Catalogue& catalogue,
                               const SmsReply& reply, Clock::TimePoint now);

}  // namespace duijie::dialogs
