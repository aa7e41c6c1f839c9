#include "channels/wecom/kf.hpp"

#include "channels/wecom/message.hpp"
#include "channels/wecom/render.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

store::AttemptRecord KfRecord(store::AttemptOutcome outcome, std::string ref, std::string error) {
  return {outcome, std::string(kKfChannel), std::move(ref), std::move(error)};
}

// What a kf customer reads: kf text has no cards, so titles and links become lines.
std::string PlainText(const dialogs::OutboundMessage& out) {
  std::string text = out.title ? *out.title + "\n" + out.text : out.text;
  if (const auto url = out.params.find("url"); url != out.params.end() && url->is_string()) {
    text += "\n" + url->get<std::string>();
  }
  return text;
}

}  // namespace

void OpenReplyWindow(store::Connection& conn, std::string_view address, std::int64_t now_ms) {
  auto& upsert = conn.Prepare(
      "INSERT INTO reply_windows (channel, address, opened_at, sent) VALUES (:channel, :address, :now, 0) "
      "ON CONFLICT (channel, address) DO UPDATE SET opened_at = excluded.opened_at, sent = 0");
  upsert.bind(":channel", std::string(kKfChannel));
  upsert.bind(":address", std::string(address));
  upsert.bind(":now", now_ms);
  upsert.exec();
}

net::awaitable<store::AttemptRecord> KfSender::Send(const store::OutboxMessage& msg) {
  const auto address = SplitKfAddress(msg.recipient);
  if (!address) co_return KfRecord(store::AttemptOutcome::kFailed, "", "not a kf address (open_kfid/external_userid)");
  dialogs::OutboundMessage out;
  try {
    out = json::parse(msg.payload).get<dialogs::OutboundMessage>();
  } catch (const std::exception& e) {
    co_return KfRecord(store::AttemptOutcome::kFailed, "", std::string("payload is not a message: ") + e.what());
  }
  if (out.kind == "card_update") co_return KfRecord(store::AttemptOutcome::kFailed, "", "kf has no cards to update");

  if (const auto code = out.params.find("welcome_code"); code != out.params.end() && code->is_string()) {
    // The welcome code is usable once within 20 s of enter_session; it does not use the window.
    const json body{{"code", *code},
                    {"msgtype", "text"},
                    {"text", {{"content", std::string(TruncateUtf8(PlainText(out), kKfTextBytes))}}}};
    auto result = co_await api_.PostJson("/cgi-bin/kf/send_msg_on_event", body);
    co_return KfRecord(result.outcome, result.answer.is_object() ? result.answer.value("msgid", "") : "",
                       std::move(result.error));
  }
  const std::string recipient = msg.recipient;
  std::string refs;
  for (const auto& part : SplitUtf8(PlainText(out), kKfTextBytes)) {
    // Take one of the window's answers before sending; give it back if nothing was sent.
    const std::int64_t now_ms = ToUnixMillis(clock_.Now());
    const auto reserve = [&recipient, now_ms](store::Connection& c) {
      auto& upd = c.Prepare(
          "UPDATE reply_windows SET sent = sent + 1 WHERE channel = :channel AND address = :address "
          "AND opened_at > :since AND sent < :max");
      upd.bind(":channel", std::string(kKfChannel));
      upd.bind(":address", recipient);
      upd.bind(":since", now_ms - kKfWindowMs);
      upd.bind(":max", kKfAnswersPerMessage);
      return upd.exec() == 1;
    };
    if (!co_await writer_.Run(reserve)) {
      co_return KfRecord(store::AttemptOutcome::kFailed, refs,
                         "kf reply window closed (48 h after the customer's last message, 5 answers each)");
    }
    const json body{
        {"touser", address->second}, {"open_kfid", address->first}, {"msgtype", "text"}, {"text", {{"content", part}}}};
    auto result = co_await api_.PostJson("/cgi-bin/kf/send_msg", body);
    if (result.outcome == store::AttemptOutcome::kSent) {
      if (!refs.empty()) refs += ',';
      refs += result.answer.value("msgid", "");
      continue;
    }
    const bool window_closed = result.errcode == 95001 || result.errcode == 95002;
    if (result.outcome != store::AttemptOutcome::kUnknown) {
      // WeCom knows the window better than we do: a closed one stays closed until the customer writes.
      const auto release = [&recipient, window_closed](store::Connection& c) {
        auto& upd = c.Prepare(window_closed ? "UPDATE reply_windows SET sent = :max WHERE channel = :channel AND "
                                              "address = :address"
                                            : "UPDATE reply_windows SET sent = MAX(sent - 1, 0) WHERE channel = "
                                              ":channel AND address = :address");
        upd.bind(":channel", std::string(kKfChannel));
        upd.bind(":address", recipient);
        if (window_closed) upd.bind(":max", kKfAnswersPerMessage);
        upd.exec();
      };
      co_await writer_.Run(release);
    }
    if (window_closed) {
      co_return KfRecord(store::AttemptOutcome::kFailed, refs, "kf reply window closed: " + result.error);
    }
    co_return KfRecord(result.outcome, refs, std::move(result.error));
  }
  co_return KfRecord(store::AttemptOutcome::kSent, refs, "");
}

net::awaitable<LookupResult> KfSender::Lookup(const store::OutboxMessage&) {
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::wecom
