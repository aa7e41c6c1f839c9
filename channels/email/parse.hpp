#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channels/email/compose.hpp"
#include "common/error.hpp"

namespace duijie::channels::email {

/// Header fields in their order, values unfolded but not decoded.
class Headers {
 public:
  void Add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  /// The first field called `name` (case-insensitive), or empty.
  [[nodiscard]] std::string_view Get(std::string_view name) const;
  [[nodiscard]] bool Has(std::string_view name) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& Fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

/// A Content-Type or Content-Disposition value: the lower-case value and its parameters (names
/// lower-case, RFC 2231 continuations joined and decoded to UTF-8).
struct HeaderValue {
  std::string value;
  std::map<std::string, std::string> params;
};
[[nodiscard]] HeaderValue ParseHeaderValue(std::string_view raw);

/// Every bound that keeps a hostile message cheap: bytes, nesting, parts, header size.
struct ParseLimits {
  std::size_t max_bytes = 25U << 20U;
  int max_depth = 8;
  int max_parts = 100;
  std::size_t max_header_bytes = 64U << 10U;
  int max_header_fields = 300;
  int max_attachments = 20;                       // files kept from one mail
  std::size_t max_attachment_bytes = 20U << 20U;  // one file, decoded
};

/// What a delivery status notification (RFC 3464) says about the message it returns.
struct Bounce {
  std::string recipient;            // Final-Recipient address
  std::string status;               // e.g. 5.1.1
  bool permanent = false;           // a 5.x.x status with Action: failed
  std::string original_message_id;  // from the returned headers, without angle brackets
};

/// A received message reduced to what the channel needs, every text in UTF-8 with LF line ends.
struct ParsedMail {
  Headers headers;
  Mailbox from;
  std::vector<std::string> recipients;  // To and Cc addresses, lower-case
  std::string subject;
  std::string message_id;  // without angle brackets
  std::string in_reply_to;
  std::vector<std::string> references;  // oldest first
  bool automatic = false;               // an auto-reply, out-of-office or bulk mail: never answered
  std::string text;                     // the first text/plain body that is not an attachment
  std::string html;                     // the first text/html body that is not an attachment
  std::vector<Attachment> attachments;
  std::optional<Bounce> bounce;
};

/// Parses raw RFC 5322 / MIME bytes. Refuses (kTooLarge, kInvalidArgument) a message over the
/// limits, broken base64, an unknown charset, a header block without an end, a multipart
/// without its boundary; never reads past the input.
[[nodiscard]] Result<ParsedMail> ParseMail(std::string_view raw, const ParseLimits& limits = {});

/// kTooLarge, naming the file, when `mail` carries more attachments or a larger one than
/// `limits` allow. ParseMail and MailgunMail check it.
[[nodiscard]] Result<void> CheckAttachments(const ParsedMail& mail, const ParseLimits& limits);

/// Header text with RFC 2047 encoded words decoded to UTF-8 (B and Q, any charset iconv knows);
/// white space between adjacent encoded words dropped. An unknown charset is an error.
[[nodiscard]] Result<std::string> DecodeHeaderText(std::string_view raw);

/// Bytes in `charset` as UTF-8. GB2312 and GBK are read as GB18030 (their superset, as mail
/// clients do); invalid UTF-8 is an error. Unknown charsets: kInvalidArgument.
[[nodiscard]] Result<std::string> ToUtf8(std::string_view bytes, std::string_view charset);

/// The decoded body of a part: base64 (white space ignored, anything else outside the alphabet
/// refused), quoted-printable, or 7bit/8bit/binary as is.
[[nodiscard]] Result<std::string> DecodeTransfer(std::string_view body, std::string_view encoding);

/// The parts of a multipart body, each still with its own headers. Also reads
/// multipart/form-data request bodies (webhooks).
[[nodiscard]] Result<std::vector<std::string_view>> SplitMultipart(std::string_view body, std::string_view boundary,
                                                                   int max_parts);

/// The header block and the body of one entity.
struct Entity {
  Headers headers;
  std::string_view body;
};
[[nodiscard]] Result<Entity> SplitEntity(std::string_view raw, const ParseLimits& limits = {});

/// The first mailbox of an address header (decoded), e.g. `"张三" <Zhang@X.cn>` → {张三,
/// zhang@x.cn}; the address lower-cased.
[[nodiscard]] Mailbox ParseMailbox(std::string_view decoded);
/// Every address in an address list header, lower-case.
[[nodiscard]] std::vector<std::string> ParseAddressList(std::string_view decoded);
/// Message ids in a Message-ID, In-Reply-To or References value, without angle brackets.
[[nodiscard]] std::vector<std::string> ParseMessageIds(std::string_view raw);

/// Readable text of an HTML body: scripts and styles dropped, block ends as line breaks,
/// entities decoded. With `cut_quotes`, everything from the quoted history on (blockquote,
/// gmail_quote, Outlook's divRplyFwdMsg, a 原始邮件 block) is left out.
[[nodiscard]] std::string HtmlToText(std::string_view html, bool cut_quotes);

}  // namespace duijie::channels::email
