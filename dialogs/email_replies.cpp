#include "dialogs/email_replies.hpp"

#include <algorithm>

#include "dialogs/broadcasts.hpp"
#include "dialogs/message.hpp"
#include "dialogs/reply_grammar.hpp"
#include "dialogs/sms_replies.hpp"
#include "store/person_data.hpp"
#include "store/suppressions.hpp"

namespace duijie::dialogs {
namespace {

std::optional<std::int64_t> PersonByEmail(store::Connection& conn, const std::string& address) {
  auto& q = conn.Prepare("SELECT person_id FROM identities WHERE kind = 'email' AND address = ?");
  q.bind(1, address);
  std::optional<std::int64_t> out;
  if (q.executeStep()) out = q.getColumn(0).getInt64();
  q.reset();
  return out;
}

}  // namespace

bool IsEmailUnsubscribe(std::string_view text) {
  std::string t = NormalizeReply(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t == "退订" || t == "取消订阅" || t == "unsubscribe" || t == "td" || t == "退订邮件" || t == "stop";
}

bool UnsubscribeEmail(store::Connection& conn, const std::string& address, const std::string& source,
                      Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  if (!store::Suppressions::Add(conn, "email", address, "unsubscribe", source, now_ms)) return false;
  if (const auto person = PersonByEmail(conn, address)) {
    auto& consent = conn.Prepare(
        "INSERT INTO channel_consents (person_id, channel, state, changed_at, source) VALUES (?, 'email', 'opted_out', "
        "?, ?) ON CONFLICT (person_id, channel) DO UPDATE SET state = 'opted_out', changed_at = excluded.changed_at, "
        "source = excluded.source");
    consent.bind(1, *person);
    consent.bind(2, now_ms);
    consent.bind(3, source);
    consent.exec();
    consent.reset();
  }
  return true;
}

bool ProcessBounce(store::Connection& conn, std::optional<std::int64_t> outbox_id, const std::string& recipient,
                   const std::string& status, Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  bool changed = false;
  std::string address = recipient;
  if (outbox_id) {
    if (const auto msg = store::OutboxRepository::Find(conn, *outbox_id); msg && msg->channel == "email") {
      if (address.empty()) address = msg->recipient;
      const auto taken = store::OutboxRepository::RecordDelivery(
          conn, {msg->provider_ref.value_or(""), *outbox_id, "email", "", false, "bounced " + status}, now_ms);
      // The bounce overtook the record of its own send: the caller undoes this and asks again.
      if (taken == store::OutboxRepository::Delivery::kInFlight) throw BounceTooEarly();
      changed = taken == store::OutboxRepository::Delivery::kRecorded;
    }
  }
  if (!address.empty()) {
    changed = store::Suppressions::Add(conn, "email", address, "bounce", "email:bounce " + status, now_ms) || changed;
  }
  return changed;
}

EmailResult ProcessEmail(store::Connection& conn, const Conversations& conversations, const Catalogue& catalogue,
                         const EmailIn& mail, Clock::TimePoint now) {
  EmailResult out;
  if (IsEmailUnsubscribe(mail.text)) {
    out.route = UnsubscribeEmail(conn, mail.address, "email:reply", now) ? EmailRoute::kUnsubscribed
                                                                         : EmailRoute::kAlreadyUnsubscribed;
    return out;
  }
  std::vector<std::string> replies;
  std::optional<std::int64_t> person_id;
  std::string locale(Catalogue::kDefaultLocale);
  // "1" / "有意向" / "2 A7K" answer an open push, as by SMS; only the explicit words above
  // unsubscribe (a lone "N" or "T" in a mail means nothing of the kind).
  if (const auto person = PersonByEmail(conn, mail.address)) {
    locale = store::PersonLocale(conn, *person, Catalogue::kDefaultLocale);
    if (auto answered = AnswerOpenPush(conn, catalogue, *person, locale, ParseReply(mail.text), "email", now)) {
      out.route = EmailRoute::kPushAnswered;
      replies.push_back(answered->text);
      person_id = *person;
    } else if (IsAcknowledgement(mail.text)) {
      if (auto thanks = AcknowledgeBroadcast(conn, catalogue, *person, locale, std::nullopt, "email", now)) {
        out.route = EmailRoute::kAcknowledged;
        replies.push_back(*thanks);
        person_id = *person;
      }
    }
  }
  if (replies.empty()) {
    InboundEvent event;
    event.channel = "email";
    event.sender = mail.address;
    event.kind = mail.text.empty() && !mail.attachments.empty() ? "file" : "text";
    event.text = mail.text;
    if (!mail.message_id.empty()) event.reply_to = mail.message_id;
    event.attachments = mail.attachments;
    auto processed = conversations.Process(conn, event, now);
    out.outbox.insert(out.outbox.end(), processed.outbox.begin(), processed.outbox.end());
    replies = std::move(processed.replies);
    person_id = processed.person_id;
    if (!processed.locale.empty()) locale = processed.locale;
  }
  if (replies.empty()) return out;
  // Mail is one message, not a chat: every answer in one mail, under the one it answers.
  std::string text;
  for (const auto& r : replies) text += (text.empty() ? "" : "\n\n") + r;
  OutboundMessage answer = TextMessage(std::move(text));
  answer.params["locale"] = locale;
  if (!mail.message_id.empty()) {
    answer.params["email_in_reply_to"] = mail.message_id;
    answer.params["email_references"] = mail.references;
  }
  if (!mail.subject.empty()) answer.params["email_subject"] = mail.subject;
  store::NewOutboxMessage m;
  m.idempotency_key = "email:" + mail.key + ":reply";
  m.channel = "email";
  m.recipient = mail.address;
  m.kind = "reply";
  m.payload = nlohmann::json(answer).dump();
  m.person_id = person_id;
  m.priority = 10;
  out.outbox.push_back(std::move(m));
  return out;
}

}  // namespace duijie::dialogs
