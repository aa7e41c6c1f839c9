#include "bot/kf_sync.hpp"

#include <nlohmann/json.hpp>

#include "channels/wecom/kf.hpp"
#include "channels/wecom/media.hpp"
#include "store/inbox_repository.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::bot {
namespace {

namespace wecom = channels::wecom;
using nlohmann::json;

constexpr int kMaxPagesPerSync = 100;  // 100 000 messages; the next callback goes on from the cursor

store::AttemptRecord Record(store::AttemptOutcome outcome, std::string ref, std::string error) {
  return {outcome, "wecom_kf_sync", std::move(ref), std::move(error)};
}

// One pulled message, prepared outside the transaction.
struct Prepared {
  store::InboundRecord record;
  bool dialog = false;                // false: a servicer's message or an unknown origin, stored as ignored
  std::optional<std::string> window;  // the address whose reply window it opens
  std::int64_t window_at = 0;
  std::optional<dialogs::InboundEvent> event;  // for the conversation
  std::string welcome_code;                    // enter_session: the first answer may use it
  std::string msgid;
  std::optional<store::NewOutboxMessage> fetch;  // a file to keep
};

}  // namespace

net::awaitable<store::AttemptRecord> KfSync::Send(const store::OutboxMessage& msg) {
  std::string token;
  try {
    const auto payload = json::parse(msg.payload);
    token = payload.value("params", json::object()).value("token", "");
  } catch (const std::exception& e) {
    co_return Record(store::AttemptOutcome::kFailed, "", std::string("payload is not a sync task: ") + e.what());
  }
  const std::string open_kfid = msg.recipient;
  if (running_.contains(open_kfid)) {
    again_[open_kfid] = token;
    co_return Record(store::AttemptOutcome::kSent, "coalesced", "");
  }
  running_.insert(open_kfid);
  store::AttemptRecord last;
  try {
    last = co_await Pull(open_kfid, token);
    while (last.outcome == store::AttemptOutcome::kSent && again_.contains(open_kfid)) {
      auto next = std::move(again_[open_kfid]);
      again_.erase(open_kfid);
      last = co_await Pull(open_kfid, std::move(next));
    }
  } catch (...) {
    running_.erase(open_kfid);
    throw;
  }
  running_.erase(open_kfid);
  // A folded-in request whose pull did not happen (this one failed) stays with this task's retry.
  again_.erase(open_kfid);
  co_return last;
}

net::awaitable<store::AttemptRecord> KfSync::Pull(const std::string& open_kfid, std::string token) {
  const std::string channel(wecom::kKfSyncChannel);
  int queued_total = 0;
  std::string cursor;
  const auto read_cursor = [&channel, &open_kfid](store::Connection& c) {
    auto& sel = c.Prepare("SELECT cursor FROM sync_cursors WHERE channel = :channel AND scope = :scope");
    sel.bind(":channel", channel);
    sel.bind(":scope", open_kfid);
    std::string out = sel.executeStep() ? sel.getColumn(0).getString() : std::string();
    sel.reset();
    return out;
  };
  cursor = co_await writer_.Run(read_cursor);

  for (int page_no = 0; page_no < kMaxPagesPerSync; ++page_no) {
    json body{{"cursor", cursor}, {"limit", 1000}, {"open_kfid", open_kfid}, {"voice_format", 0}};
    if (!token.empty()) body["token"] = token;
    auto result = co_await api_.PostJson("/cgi-bin/kf/sync_msg", body);
    if (result.outcome != store::AttemptOutcome::kSent) {
      // A pull changes nothing on WeCom's side: an unknown outcome is simply retried.
      const auto outcome =
          result.outcome == store::AttemptOutcome::kUnknown ? store::AttemptOutcome::kRetryable : result.outcome;
      co_return Record(outcome, cursor, result.error);
    }
    auto page = wecom::ParseSyncAnswer(result.answer);
    if (!page) co_return Record(store::AttemptOutcome::kRetryable, cursor, page.error().message);

    const std::int64_t now_ms = ToUnixMillis(clock_.Now());
    std::vector<Prepared> prepared;
    prepared.reserve(page->messages.size());
    for (const auto& m : page->messages) {
      Prepared p;
      const auto event = wecom::ToInboundEvent(m);
      const std::string sender = wecom::KfAddress(m.open_kfid, m.external_userid);
      p.record = {std::string(wecom::kKfChannel), "kf:" + m.msgid, sender,
                  event ? json(*event).dump()
                        : json{{"origin", m.origin}, {"msgtype", m.msgtype}, {"open_kfid", m.open_kfid}}.dump(),
                  std::nullopt};
      p.dialog = event.has_value();
      if (event && wecom::OpensWindow(m)) {
        p.window = sender;
        p.window_at = m.send_time > 0 ? std::min(now_ms, m.send_time * 1000) : now_ms;
      }
      p.event = event;
      p.welcome_code = m.welcome_code;
      p.msgid = m.msgid;
      if (event && event->kind == "file" && !m.media_id.empty()) {
        p.fetch = wecom::FetchMediaTask(m.media_id, m.msgtype, wecom::kKfChannel, "kf:" + m.msgid);
      }
      prepared.push_back(std::move(p));
    }
    const std::string next_cursor = page->next_cursor.empty() ? cursor : page->next_cursor;
    const auto now = clock_.Now();
    const auto* conversations = &conversations_;
    const auto commit = [&prepared, &channel, &open_kfid, &next_cursor, now, now_ms,
                         conversations](store::Connection& c) {
      int queued = 0;
      for (auto& p : prepared) {
        auto entry = store::InboxRepository::Begin(c, p.record, now_ms);
        if (entry.duplicate) continue;
        if (p.window) wecom::OpenReplyWindow(c, *p.window, p.window_at);
        std::vector<store::NewOutboxMessage> out;
        if (p.event) {
          const auto processed = conversations->Process(c, *p.event, now);
          for (std::size_t i = 0; i < processed.replies.size(); ++i) {
            store::NewOutboxMessage answer;
            answer.idempotency_key = "wecom_kf:" + p.msgid + ":reply:" + std::to_string(i);
            answer.channel = std::string(wecom::kKfChannel);
            answer.recipient = p.event->sender;
            answer.kind = "reply";
            dialogs::OutboundMessage text = dialogs::TextMessage(processed.replies[i]);
            if (i == 0 && !p.welcome_code.empty()) text.params["welcome_code"] = p.welcome_code;
            answer.payload = json(text).dump();
            answer.priority = 10;
            out.push_back(std::move(answer));
          }
          out.insert(out.end(), processed.outbox.begin(), processed.outbox.end());
        }
        if (p.fetch) out.push_back(*p.fetch);
        for (auto& m : out) {
          m.inbox_id = entry.id;
          if (!store::OutboxRepository::Enqueue(c, m, now_ms).duplicate) ++queued;
        }
        store::InboxRepository::Complete(c, entry.id, p.dialog ? "processed" : "ignored",
                                         store::StoredReply{200, "", ""}, now_ms);
      }
      auto& save = c.Prepare(
          "INSERT INTO sync_cursors (channel, scope, cursor, updated_at) VALUES (:channel, :scope, :cursor, :now) "
          "ON CONFLICT (channel, scope) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at");
      save.bind(":channel", channel);
      save.bind(":scope", open_kfid);
      save.bind(":cursor", next_cursor);
      save.bind(":now", now_ms);
      save.exec();
      return queued;
    };
    const int queued = co_await writer_.Run(commit);
    queued_total += queued;
    if (queued > 0 && outbox_notify_) outbox_notify_();
    cursor = next_cursor;
    if (!page->has_more) break;
  }
  if (log_.Enabled(LogLevel::kDebug)) log_.Debug("kf sync done", {{"open_kfid", open_kfid}, {"answers", queued_total}});
  co_return Record(store::AttemptOutcome::kSent, cursor, "");
}

net::awaitable<channels::LookupResult> KfSync::Lookup(const store::OutboxMessage&) {
  co_return channels::LookupResult{store::Recovery::kWasLost, "", "sent"};
}

}  // namespace duijie::bot
