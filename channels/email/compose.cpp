#include "channels/email/compose.hpp"

#include <array>
#include <ctime>

#include "common/digest.hpp"

namespace duijie::channels::email {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// 39 bytes make 52 base64 characters: with "=?UTF-8?B?" and "?=" a word is 64 characters, so
// even the first line ("Subject: " + word) stays within RFC 2047's 76.
constexpr std::size_t kWordBytes = 39;

std::size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;  // a stray byte: its own unit, never joined to a neighbour
}

bool NeedsEncoding(std::string_view text) {
  if (text.find("=?") != std::string_view::npos) return true;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F) return true;
  }
  return false;
}

// The phrase needs quotes when it holds RFC 5322 specials.
bool NeedsQuotes(std::string_view name) { return name.find_first_of("()<>[]:;@\\,.\"") != std::string_view::npos; }

std::string Boundary(const OutgoingMail& mail, std::string_view tag) {
  // "=_" cannot occur in base64 text, so the boundary never appears inside a part.
  return "=_duijie_" + std::string(tag) + "_" + Sha256Hex(mail.boundary_seed + mail.message_id).substr(0, 24);
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append(kCrlf);
}

std::string AngleList(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += "\r\n ";
    out += "<" + id + ">";
  }
  return out;
}

std::string MailboxList(const std::vector<Mailbox>& boxes) {
  std::string out;
  for (const auto& m : boxes) {
    if (!out.empty()) out += ",\r\n ";
    out += FormatMailbox(m);
  }
  return out;
}

// RFC 2231 extended parameter value: UTF-8'' and percent-encoding for everything but
// attribute characters.
std::string ExtendedValue(std::string_view utf8) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (const char ch : utf8) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '-' || c == '_' || c == '~';
    if (plain) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string TextPart(std::string_view subtype, std::string_view body) {
  std::string out;
  AppendHeader(out, "Content-Type", "text/" + std::string(subtype) + "; charset=UTF-8");
  AppendHeader(out, "Content-Transfer-Encoding", "base64");
  out += kCrlf;
  out += Base64Lines(body);
  return out;
}

std::string Body(const OutgoingMail& mail) {
  std::string body;
  if (mail.html.empty()) {
    body = TextPart("plain", mail.text);
  } else {
    const std::string b = Boundary(mail, "alt");
    AppendHeader(body, "Content-Type", "multipart/alternative; boundary=\"" + b + "\"");
    body += kCrlf;
    body += "--" + b + "\r\n" + TextPart("plain", mail.text);
    body += "--" + b + "\r\n" + TextPart("html", mail.html);
    body += "--" + b + "--\r\n";
  }
  if (mail.attachments.empty()) return body;
  const std::string b = Boundary(mail, "mix");
  std::string out;
  AppendHeader(out, "Content-Type", "multipart/mixed; boundary=\"" + b + "\"");
  out += kCrlf;
  out += "--" + b + "\r\n" + body;
  for (const auto& a : mail.attachments) {
    out += "--" + b + "\r\n";
    // Both spellings of the name: RFC 2231 for standard readers, an encoded word for the
    // clients (Outlook, older Foxmail) that only read that.
    AppendHeader(out, "Content-Type", a.content_type + ";\r\n name=\"" + EncodeHeaderText(a.filename) + "\"");
    AppendHeader(out, "Content-Disposition", "attachment;\r\n filename*=" + ExtendedValue(a.filename));
    AppendHeader(out, "Content-Transfer-Encoding", "base64");
    out += kCrlf;
    out += Base64Lines(a.data);
  }
  out += "--" + b + "--\r\n";
  return out;
}

}  // namespace

std::string EncodeHeaderText(std::string_view utf8) {
  if (!NeedsEncoding(utf8)) return std::string(utf8);
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = i;
    while (end < utf8.size()) {
      const std::size_t len = std::min(Utf8Length(static_cast<unsigned char>(utf8[end])), utf8.size() - end);
      if (end + len - i > kWordBytes && end > i) break;
      end += len;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string FormatMailbox(const Mailbox& m) {
  if (m.name.empty()) return m.address;
  std::string phrase;
  if (NeedsEncoding(m.name)) {
    phrase = EncodeHeaderText(m.name);
  } else if (NeedsQuotes(m.name)) {
    phrase = "\"";
    for (const char c : m.name) {
      if (c == '"' || c == '\\') phrase += '\\';
      phrase += c;
    }
    phrase += '"';
  } else {
    phrase = m.name;
  }
  return phrase + " <" + m.address + ">";
}

std::string FormatDate(std::int64_t unix_seconds, int utc_offset_minutes) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t local = static_cast<std::time_t>(unix_seconds + std::int64_t{utc_offset_minutes} * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  const int offset = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", kDays.at(tm.tm_wday), tm.tm_mday,
                kMonths.at(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                utc_offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
  return buf.data();
}

std::string Base64Lines(std::string_view bytes) {
  const std::string b64 = Base64Encode(bytes);
  std::string out;
  out.reserve(b64.size() + (b64.size() / 76 + 1) * 2);
  for (std::size_t i = 0; i < b64.size(); i += 76) {
    out.append(b64, i, 76);
    out += kCrlf;
  }
  return out;
}

std::string Compose(const OutgoingMail& mail) {
  std::string out;
  AppendHeader(out, "Date", FormatDate(mail.date_unix, mail.utc_offset_minutes));
  AppendHeader(out, "From", FormatMailbox(mail.from));
  if (!mail.to.empty()) AppendHeader(out, "To", MailboxList(mail.to));
  if (!mail.cc.empty()) AppendHeader(out, "Cc", MailboxList(mail.cc));
  if (!mail.reply_to.empty()) AppendHeader(out, "Reply-To", mail.reply_to);
  AppendHeader(out, "Subject", EncodeHeaderText(mail.subject));
  AppendHeader(out, "Message-ID", "<" + mail.message_id + ">");
  if (!mail.in_reply_to.empty()) AppendHeader(out, "In-Reply-To", "<" + mail.in_reply_to + ">");
  if (!mail.references.empty()) AppendHeader(out, "References", AngleList(mail.references));
  // One line each: a folded List-Unsubscribe breaks DKIM on some servers (spec §6.2).
  std::string unsubscribe;
  if (!mail.unsubscribe_mailto.empty()) unsubscribe = "<mailto:" + mail.unsubscribe_mailto + ">";
  if (!mail.unsubscribe_https.empty()) {
    unsubscribe += (unsubscribe.empty() ? "<" : ", <") + mail.unsubscribe_https + ">";
  }
  if (!unsubscribe.empty()) AppendHeader(out, "List-Unsubscribe", unsubscribe);
  if (!mail.unsubscribe_https.empty()) AppendHeader(out, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  AppendHeader(out, "MIME-Version", "1.0");
  out += Body(mail);
  return out;
}

std::vector<std::string> EnvelopeRecipients(const OutgoingMail& mail) {
  std::vector<std::string> out;
  out.reserve(mail.to.size() + mail.cc.size() + mail.bcc.size());
  for (const auto& m : mail.to) out.push_back(m.address);
  for (const auto& m : mail.cc) out.push_back(m.address);
  for (const auto& a : mail.bcc) out.push_back(a);
  return out;
}

bool PlausibleAddress(std::string_view address) {
  if (address.empty() || address.size() > 254) return false;
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() || at > 64) return false;
  for (const char ch : address) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',' || c == '"' || c == '(' || c == ')') return false;
  }
  return address.substr(at + 1).find('.') != std::string_view::npos;
}

}  // namespace duijie::channels::email
