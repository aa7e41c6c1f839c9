#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace duijie::dialogs {

/// What a one-keystroke SMS reply means (spec §5.5).
enum class ReplyIntent {
  kAccept,       // 1, Y, 是, 接受, 有意向 ...
  kDecline,      // 2, 不, 拒绝, 暂不考虑 ...; never N
  kUnsubscribe,  // TD, T, R, N, 退订 ... (N is Alibaba's unsubscribe keyword)
  kText,         // anything else: the dialogs read it
};

struct ParsedReply {
  ReplyIntent intent = ReplyIntent::kText;
  /// The push's short code when the reply carries one ("1 A7K", "A7K1", "接受A7K").
  std::optional<std::string> code;
  /// Words after the keyword ("2 没时间" -> "没时间"): a decline's reason, an acceptance's note.
  std::string rest;
};

/// Normalised form of a reply: full-width folded to ASCII, lower case, spaces collapsed, and
/// punctuation trimmed at both ends.
[[nodiscard]] std::string NormalizeReply(std::string_view text);

/// Reads a reply. "取消" is not an unsubscribe here: in a conversation it cancels the open form.
[[nodiscard]] ParsedReply ParseReply(std::string_view text);

/// A push's short reply code: letter, digit, letter from an alphabet without look-alikes
/// (no 0/O, 1/I/L), e.g. "A7K". `r1`..`r3` are uniform values in [0, 1).
[[nodiscard]] std::string MakeReplyCode(double r1, double r2, double r3);
[[nodiscard]] bool IsReplyCode(std::string_view token);

}  // namespace duijie::dialogs
