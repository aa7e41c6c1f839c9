#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duijie::channels::email {

/// A display name and an address, e.g. 科技成果对接 <noreply@notify.example.cn>.
struct Mailbox {
  std::string name;  // UTF-8, may be empty
  std::string address;
};

struct Attachment {
  std::string filename;  // UTF-8
  std::string content_type = "application/octet-stream";
  std::string data;
};

/// Everything one outgoing message says (spec sms-email.md §6.2). Header text is UTF-8; the
/// composer encodes it.
struct OutgoingMail {
  Mailbox from;
  std::vector<Mailbox> to;
  std::vector<Mailbox> cc;
  std::vector<std::string> bcc;  // envelope only: never written into a header
  std::string reply_to;          // e.g. reply+o42-1a2b3c@inbound.example.cn; empty: none
  std::string subject;
  std::string message_id;               // without the angle brackets
  std::string in_reply_to;              // without the angle brackets; empty: not a reply
  std::vector<std::string> references;  // oldest first, without the angle brackets
  std::string unsubscribe_mailto;       // e.g. unsubscribe@notify.example.cn?subject=unsub-x
  std::string unsubscribe_https;        // one-click (RFC 8058) only when this is set
  std::string text;                     // plain text; always sent
  std::string html;                     // empty: text only
  std::vector<Attachment> attachments;
  std::int64_t date_unix = 0;       // seconds
  int utc_offset_minutes = 8 * 60;  // Asia/Shanghai
  std::string boundary_seed;        // random text: keeps boundaries unique (injected randomness)
};

/// RFC 2047 B-encoded words for a header value: each word at most 75 characters, a UTF-8
/// character never split across words, words joined by CRLF SPACE. Printable ASCII text without
/// "=?" comes back unchanged.
[[nodiscard]] std::string EncodeHeaderText(std::string_view utf8);

/// `name <address>` with the name quoted or encoded as it needs; the bare address without a name.
[[nodiscard]] std::string FormatMailbox(const Mailbox& m);

/// RFC 5322 date-time, e.g. "Tue, 14 Nov 2023 22:13:20 +0800".
[[nodiscard]] std::string FormatDate(std::int64_t unix_seconds, int utc_offset_minutes);

/// Base64 of `bytes` in lines of 76 characters, each ended by CRLF.
[[nodiscard]] std::string Base64Lines(std::string_view bytes);

/// The whole RFC 5322 message, CRLF line ends, ready for SMTP DATA. Bodies are base64 UTF-8;
/// text and HTML form a multipart/alternative (text first); attachments make a multipart/mixed.
[[nodiscard]] std::string Compose(const OutgoingMail& mail);

/// The SMTP envelope recipients: To, Cc and Bcc.
[[nodiscard]] std::vector<std::string> EnvelopeRecipients(const OutgoingMail& mail);

/// Whether `address` looks like a deliverable address (local@domain, no spaces or controls,
/// at most 254 bytes). Header injection (CR, LF) is always refused.
[[nodiscard]] bool PlausibleAddress(std::string_view address);

}  // namespace duijie::channels::email
