#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {

/// WeCom's byte limits (spec §4.2, §5, §7.4): UTF-8 bytes, not characters.
inline constexpr std::size_t kAppTextBytes = 2048;
inline constexpr std::size_t kAppMarkdownBytes = 2048;
inline constexpr std::size_t kRobotTextBytes = 2048;
inline constexpr std::size_t kRobotMarkdownBytes = 4096;
inline constexpr std::size_t kCardTitleBytes = 128;
inline constexpr std::size_t kCardDescriptionBytes = 512;
inline constexpr std::size_t kTaskIdBytes = 128;
inline constexpr std::size_t kButtonKeyBytes = 1024;
inline constexpr std::size_t kMaxButtons = 6;
inline constexpr std::size_t kMaxCardFields = 6;
inline constexpr std::size_t kMaxArticles = 8;

/// One call of the WeCom API: the path under the API base and its JSON body (without the token).
struct ApiCall {
  std::string path;  // "/cgi-bin/message/send", "/cgi-bin/message/update_template_card"
  nlohmann::json body;
};

/// Splits `text` into pieces of at most `max_bytes` bytes, never inside a UTF-8 character and,
/// where a piece would otherwise end in its second half, at the last line break (which is dropped).
[[nodiscard]] std::vector<std::string> SplitUtf8(std::string_view text, std::size_t max_bytes);

/// Renders a neutral message as app-message calls to `touser` (spec §4.2–4.6):
/// text and markdown are split into as many messages as the byte limit needs; `card` becomes a
/// textcard (a card without a link is sent as text); `news` carries 1–8 articles; `template` is a
/// button_interaction template card; `card_update` greys out a clicked card's buttons.
/// A message WeCom would refuse (no buttons, a bad task id, duplicate keys, ...) is an error
/// naming the field, so the outbox fails it for good instead of retrying.
[[nodiscard]] Result<std::vector<ApiCall>> RenderAppMessage(const dialogs::OutboundMessage& msg,
                                                            std::string_view touser, std::int64_t agent_id);

/// Renders a neutral message as group-robot webhook bodies (spec §5): text (with mentions from
/// params.mentions / params.mention_mobiles, split at 2048 bytes), markdown (split at 4096 bytes)
/// and news. Cards degrade to markdown.
[[nodiscard]] Result<std::vector<nlohmann::json>> RenderRobotMessage(const dialogs::OutboundMessage& msg);

}  // namespace duijie::channels::wecom
