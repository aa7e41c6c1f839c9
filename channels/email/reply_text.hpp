#pragma once
#include <string>
#include <string_view>

namespace duijie::channels::email {

/// What the person wrote in a reply, without the quoted history and the signature (spec
/// sms-email.md §6.4): cut at the earliest quote header of Chinese and English clients (Gmail
/// "On … wrote:" and "于…写道：", NetEase/Apple "在…写道：", QQ Mail/Foxmail/Coremail
/// "原始邮件", Outlook header blocks in both languages, forwarded-message markers) or at the
/// first run of ">" lines, then drop a trailing signature ("-- ", "发自我的iPhone" …). Never
/// empty when the text was not: if everything would be cut, the original comes back, trimmed.
[[nodiscard]] std::string ExtractReply(std::string_view text);

}  // namespace duijie::channels::email
