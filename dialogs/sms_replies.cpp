#include "dialogs/sms_replies.hpp"

#include <algorithm>
#include <charconv>

#include <SQLiteCpp/Statement.h>

#include "dialogs/broadcasts.hpp"
#include "dialogs/reply_grammar.hpp"
#include "store/suppressions.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

constexpr std::int64_t kPushWindowMs = 72LL * 3600 * 1000;
constexpr std::int64_t kReasonWindowMs = 30LL * 60 * 1000;  // a reason after a bare "2" joins it

struct OpenPush {
  std::int64_t id = 0;
  std::string code;
  std::string title;
};

struct Person {
  std::int64_t id = 0;
  std::string locale = std::string(Catalogue::kDefaultLocale);
};

std::optional<Person> PersonByMobile(store::Connection& c, const std::string& number) {
  auto& q = c.Prepare(
      "SELECT p.id, p.locale FROM identities i JOIN people p ON p.id = i.person_id "
      "WHERE i.kind = 'mobile' AND i.address = ?");
  q.bind(1, number);
  if (!q.executeStep()) return std::nullopt;
  return Person{q.getColumn(0).getInt64(), q.getColumn(1).getString()};
}

std::vector<OpenPush> OpenPushes(store::Connection& c, std::int64_t person_id, std::int64_t since_ms) {
  auto& q = c.Prepare(
      "SELECT p.id, COALESCE(p.reply_code, ''), n.title FROM pushes p JOIN needs n ON n.id = p.need_id "
      "WHERE p.researcher_person_id = ? AND p.status = 'sent' AND p.updated_at >= ? ORDER BY p.updated_at DESC");
  q.bind(1, person_id);
  q.bind(2, since_ms);
  std::vector<OpenPush> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString()});
  return out;
}

// The reply codes of the open pushes the SMS a reply came back on carried (its extension code
// names that SMS): one for a single push, several for a digest.
std::vector<std::string> CodesByExtend(store::Connection& c, std::int64_t person_id, const SmsReply& reply,
                                       std::int64_t now_ms) {
  std::vector<std::string> codes;
  for (const auto& key :
       store::OutboxRepository::SentWithExtend(c, "sms", reply.number, reply.extend, now_ms - kPushWindowMs)) {
    // "push:<id>", or "push:<id>>sms" when the SMS was another channel's fallback.
    if (!key.starts_with("push:")) continue;
    std::int64_t push = 0;
    const auto [ptr, ec] = std::from_chars(key.data() + 5, key.data() + key.size(), push);
    if (ec != std::errc()) continue;
    auto& q = c.Prepare(
        "SELECT reply_code FROM pushes WHERE id = ? AND researcher_person_id = ? AND status = 'sent' "
        "AND reply_code IS NOT NULL");
    q.bind(1, push);
    q.bind(2, person_id);
    if (q.executeStep()) codes.push_back(q.getColumn(0).getString());
    q.reset();
  }
  return codes;
}

store::NewOutboxMessage Answer(const SmsReply& reply, const std::string& suffix, std::string kind,
                               const OutboundMessage& msg, std::optional<std::int64_t> person_id) {
  store::NewOutboxMessage m;
  m.idempotency_key = "sms:" + reply.key + ":" + suffix;
  m.channel = "sms";
  m.recipient = reply.number;
  m.kind = std::move(kind);
  m.payload = nlohmann::json(msg).dump();
  m.person_id = person_id;
  m.priority = 10;
  return m;
}

}  // namespace

std::string DeclineReason(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto has = [&t](std::initializer_list<std::string_view> words) {
    return std::any_of(words.begin(), words.end(), [&t](std::string_view w) { return t.find(w) != std::string::npos; });
  };
  if (t.empty()) return t;
  if (has({"领域", "专业", "方向", "不对口", "不匹配", "不相关", "not my field", "not my area", "field"})) {
    return "not_my_field";
  }
  if (has({"没时间", "没空", "太忙", "很忙", "精力", "no time", "busy"})) return "no_time";
  std::size_t end = std::min<std::size_t>(text.size(), 200);
  // Back to the start of a character, so the cut never splits one.
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) --end;
  return std::string(text.substr(0, end));
}

// The answer to push `push_id`: its status, the decline reason, the transition and the
// confirmation to send.
PushAnswer RecordPushAnswer(store::Connection& conn, const Catalogue& catalogue, std::int64_t person_id,
                            const std::string& locale, std::int64_t push_id, const std::string& title, bool accept,
                            const std::string& reason, std::string_view channel, Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  auto& upd =
      conn.Prepare("UPDATE pushes SET status = ?, decline_reason = ?, updated_at = ? WHERE id = ? AND status = 'sent'");
  upd.bind(1, accept ? "interested" : "declined");
  if (accept || reason.empty()) {
    upd.bind(2);
  } else {
    upd.bind(2, DeclineReason(reason));
  }
  upd.bind(3, now_ms);
  upd.bind(4, push_id);
  upd.exec();
  upd.reset();
  store::RecordTransition(conn, {"push", push_id, "sent", accept ? "interested" : "declined", person_id,
                                 std::string(channel), accept ? "" : reason, now_ms});
  return PushAnswer{SmsReplyRoute::kPushAnswered,
                    catalogue.Text(locale, accept ? "sms.push_accepted" : "sms.push_declined", {{"title", title}})};
}

std::optional<PushAnswer> AnswerOpenPush(store::Connection& conn, const Catalogue& catalogue, std::int64_t person_id,
                                         const std::string& locale, const ParsedReply& parsed, std::string_view channel,
                                         Clock::TimePoint now, const std::vector<std::string>& among) {
  if (parsed.intent != ReplyIntent::kAccept && parsed.intent != ReplyIntent::kDecline) return std::nullopt;
  const std::int64_t now_ms = ToUnixMillis(now);
  auto open = OpenPushes(conn, person_id, now_ms - kPushWindowMs);
  if (!among.empty()) {
    std::erase_if(open,
                  [&](const OpenPush& p) { return std::find(among.begin(), among.end(), p.code) == among.end(); });
  }
  const OpenPush* chosen = nullptr;
  if (parsed.code) {
    for (const auto& p : open) {
      if (p.code == *parsed.code) chosen = &p;
    }
  } else if (open.size() == 1) {
    chosen = &open.front();
  }
  if (chosen == nullptr && open.size() > 1) {
    std::string list;
    for (const auto& p : open) list += (list.empty() ? "" : "；") + p.code + " " + p.title;
    const std::string digit = parsed.intent == ReplyIntent::kAccept ? "1" : "2";
    return PushAnswer{
        SmsReplyRoute::kAskedWhichPush,
        catalogue.Text(locale, "sms.which_push", {{"list", list}, {"digit", digit}, {"example", open.front().code}})};
  }
  if (chosen == nullptr && parsed.intent == ReplyIntent::kDecline && !parsed.rest.empty()) {
    // "2 不是我的领域" after a bare "2": the reason for the push declined a moment ago.
    auto& recent = conn.Prepare(
        "SELECT id FROM pushes WHERE researcher_person_id = ? AND status = 'declined' AND decline_reason IS NULL "
        "AND updated_at >= ? ORDER BY updated_at DESC LIMIT 1");
    recent.bind(1, person_id);
    recent.bind(2, now_ms - kReasonWindowMs);
    const bool found = recent.executeStep();
    const std::int64_t declined = found ? recent.getColumn(0).getInt64() : 0;
    recent.reset();
    if (found) {
      auto& why = conn.Prepare("UPDATE pushes SET decline_reason = ?, updated_at = ? WHERE id = ?");
      why.bind(1, DeclineReason(parsed.rest));
      why.bind(2, now_ms);
      why.bind(3, declined);
      why.exec();
      why.reset();
      return PushAnswer{SmsReplyRoute::kPushAnswered, catalogue.Text(locale, "sms.decline_reason_noted")};
    }
  }
  // No open push: the digit is an answer to whatever the conversation asked.
  if (chosen == nullptr) return std::nullopt;
  return RecordPushAnswer(conn, catalogue, person_id, locale, chosen->id, chosen->title,
                          parsed.intent == ReplyIntent::kAccept, parsed.rest, channel, now);
}

std::optional<PushAnswer> AnswerPushById(store::Connection& conn, const Catalogue& catalogue, std::int64_t person_id,
                                         const std::string& locale, std::int64_t push_id, bool accept,
                                         std::string_view channel, Clock::TimePoint now) {
  auto& q = conn.Prepare(
      "SELECT n.title FROM pushes p JOIN needs n ON n.id = p.need_id WHERE p.id = ? AND p.researcher_person_id = ? "
      "AND p.status = 'sent'");
  q.bind(1, push_id);
  q.bind(2, person_id);
  std::optional<std::string> title;
  if (q.executeStep()) title = q.getColumn(0).getString();
  q.reset();
  if (!title) return std::nullopt;  // not theirs, or answered already (a second click)
  return RecordPushAnswer(conn, catalogue, person_id, locale, push_id, *title, accept, "", channel, now);
}

SmsReplyResult ProcessSmsReply(store::Connection& conn, const Conversations& conversations, const Catalogue& catalogue,
                               const SmsReply& reply, Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  auto parsed = ParseReply(reply.text);
  const auto person = PersonByMobile(conn, reply.number);
  const std::string locale = person ? person->locale : std::string(Catalogue::kDefaultLocale);
  const std::optional<std::int64_t> person_id = person ? std::optional(person->id) : std::nullopt;
  SmsReplyResult out;

  const std::string word = NormalizeReply(reply.text);
  const bool resubscribe = word == "订阅" || word == "恢复" || word == "恢复短信" || word == "重新订阅" ||
                           word == "取消退订" || word == "start" || word == "unstop";
  if (resubscribe && store::Suppressions::Remove(conn, "sms", reply.number, "opt_out")) {
    out.route = SmsReplyRoute::kResubscribed;
    if (person) {
      auto& consent = conn.Prepare(
          "UPDATE channel_consents SET state = 'subscribed', changed_at = ?, source = ? WHERE person_id = ? AND "
          "channel = 'sms'");
      consent.bind(1, now_ms);
      consent.bind(2, "sms:" + word + " via " + reply.provider);
      consent.bind(3, person->id);
      consent.exec();
      consent.reset();
    }
    out.outbox.push_back(
        Answer(reply, "resubscribe", "reply", TextMessage(catalogue.Text(locale, "sms.resubscribed")), person_id));
    return out;
  }

  if (parsed.intent == ReplyIntent::kUnsubscribe) {
    const bool added = store::Suppressions::Add(conn, "sms", reply.number, "opt_out",
                                                "sms:" + NormalizeReply(reply.text) + " via " + reply.provider, now_ms);
    if (!added) {
      out.route = SmsReplyRoute::kAlreadyOptedOut;  // confirmed once, when it happened
      return out;
    }
    out.route = SmsReplyRoute::kOptOut;
    if (person) {
      auto& consent = conn.Prepare(
          "INSERT INTO channel_consents (person_id, channel, state, changed_at, source) VALUES (?, 'sms', 'opted_out', "
          "?, ?) "
          "ON CONFLICT (person_id, channel) DO UPDATE SET state = 'opted_out', changed_at = excluded.changed_at, "
          "source = excluded.source");
      consent.bind(1, person->id);
      consent.bind(2, now_ms);
      consent.bind(3, "sms:" + reply.provider);
      consent.exec();
    }
    OutboundMessage confirm = TextMessage(catalogue.Text(locale, "sms.opted_out"));
    confirm.template_id = "opt_out_confirmation";
    out.outbox.push_back(Answer(reply, "opt_out", "opt_out_confirmation", confirm, person_id));
    return out;
  }

  if (person) {
    std::vector<std::string> carried;
    if (!parsed.code && !reply.extend.empty()) carried = CodesByExtend(conn, person->id, reply, now_ms);
    if (carried.size() == 1) parsed.code = carried.front();
    if (auto answered = AnswerOpenPush(conn, catalogue, person->id, locale, parsed, "sms", now, carried)) {
      out.route = answered->route;
      out.outbox.push_back(Answer(reply, answered->route == SmsReplyRoute::kAskedWhichPush ? "which" : "answer",
                                  "reply", TextMessage(answered->text), person_id));
      return out;
    }
    if (IsAcknowledgement(reply.text)) {
      if (auto thanks = AcknowledgeBroadcast(conn, catalogue, person->id, locale, std::nullopt, "sms", now)) {
        out.route = SmsReplyRoute::kAcknowledged;
        out.outbox.push_back(Answer(reply, "ack", "reply", TextMessage(*thanks), person_id));
        return out;
      }
    }
  }

  InboundEvent event;
  event.channel = "sms";
  event.sender = reply.number;
  event.kind = "text";
  event.text = reply.text;
  const auto processed = conversations.Process(conn, event, now);
  out.outbox.insert(out.outbox.end(), processed.outbox.begin(), processed.outbox.end());
  for (std::size_t i = 0; i < processed.replies.size(); ++i) {
    out.outbox.push_back(
        Answer(reply, "reply:" + std::to_string(i), "reply", TextMessage(processed.replies[i]), processed.person_id));
  }
  return out;
}

}  // namespace duijie::dialogs
