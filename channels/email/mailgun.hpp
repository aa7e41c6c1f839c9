#pragma once
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "channels/email/parse.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"

namespace duijie::channels::email {

/// A webhook request body's fields and files (application/x-www-form-urlencoded or
/// multipart/form-data).
struct FormData {
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<Attachment> files;
  [[nodiscard]] std::string_view Get(std::string_view name) const;
};
[[nodiscard]] Result<FormData> ParseFormData(std::string_view body, std::string_view content_type,
                                             const ParseLimits& limits = {});

/// Mailgun's webhook signature (spec §6.3): hex HMAC-SHA256 over timestamp + token with the
/// webhook signing key, compared in constant time.
[[nodiscard]] bool MailgunSignatureValid(std::string_view signing_key, std::string_view timestamp,
                                         std::string_view token, std::string_view signature);

/// A route's forwarded message as a ParsedMail: the raw MIME when the route sends it
/// (body-mime), else the parsed fields (message-headers, body-plain, body-html, attachments).
[[nodiscard]] Result<ParsedMail> MailgunMail(const FormData& form, const ParseLimits& limits = {});

/// Tokens already used within the freshness window: a replayed webhook is refused. Bounded in
/// entries; tokens older than the window fall out (their timestamps are refused anyway).
class UsedTokens {
 public:
  UsedTokens(const Clock& clock, Clock::Duration window, std::size_t max_entries = 100'000)
      : clock_(clock), window_(window), max_entries_(max_entries) {}
  [[nodiscard]] bool Seen(const std::string& token);
  void Remember(const std::string& token);

 private:
  void Expire(Clock::TimePoint now);
  const Clock& clock_;
  Clock::Duration window_;
  std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::deque<std::pair<Clock::TimePoint, std::string>> order_;
};

}  // namespace duijie::channels::email
