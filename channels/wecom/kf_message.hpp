#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {

/// 微信客服 (spec §6.2): external people write to a customer-service account; duijie pulls their
/// messages with kf/sync_msg and answers with kf/send_msg inside a window that WeCom keeps:
/// 48 hours after the person's last message, at most 5 answers per message received.
inline constexpr std::string_view kKfChannel = "wecom_kf";
inline constexpr std::string_view kKfSyncChannel = "wecom_kf_sync";
inline constexpr std::int64_t kKfWindowMs = 48LL * 3600 * 1000;
inline constexpr int kKfAnswersPerMessage = 5;
inline constexpr std::size_t kKfTextBytes = 2048;

/// One entry of sync_msg's msg_list.
struct KfMessage {
  std::string msgid;
  std::string open_kfid;
  std::string external_userid;
  std::int64_t send_time = 0;  // seconds
  int origin = 0;              // 3 the customer, 4 a system event, 5 a servicer (staff) wrote
  std::string msgtype;         // text, image, voice, video, file, location, link, event, ...
  std::string text;
  std::string media_id;
  std::string event_type;    // for msgtype event: enter_session, msg_send_fail, ...
  std::string welcome_code;  // enter_session: lets one welcome go out (send_msg_on_event, 20 s)
};

struct KfPage {
  std::vector<KfMessage> messages;
  std::string next_cursor;
  bool has_more = false;
};

/// Parses a sync_msg answer (errcode 0). Entries without msgid are skipped; fields are capped.
[[nodiscard]] Result<KfPage> ParseSyncAnswer(const nlohmann::json& answer);

/// The address duijie uses for a kf customer: "<open_kfid>/<external_userid>".
[[nodiscard]] std::string KfAddress(std::string_view open_kfid, std::string_view external_userid);
/// Splits a kf address; nothing if it is not one.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> SplitKfAddress(std::string_view address);

/// The neutral event for a customer's message or a session event; nothing for what the
/// dialogs must not see (servicers' own messages, unknown origins).
[[nodiscard]] std::optional<dialogs::InboundEvent> ToInboundEvent(const KfMessage& msg);

/// Whether a kf message opens (or renews) the reply window: only the customer's own messages.
[[nodiscard]] inline bool OpensWindow(const KfMessage& msg) { return msg.origin == 3; }

}  // namespace duijie::channels::wecom
