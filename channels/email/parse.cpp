#include "channels/email/parse.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>

#include "common/digest.hpp"
#include <iconv.h>

namespace duijie::channels::email {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), Lower);
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Finds `needle` case-insensitively (ASCII).
std::size_t IFind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  if (needle.empty()) return from;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if ((c >> 5) == 0x6 && c >= 0xC2) {
      len = 2;
    } else if ((c >> 4) == 0xE) {
      len = 3;
    } else if ((c >> 3) == 0x1E && c <= 0xF4) {
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += len;
  }
  return true;
}

std::string NormaliseLineEnds(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<std::string> Base64Lenient(std::string_view body) {
  std::string compact;
  compact.reserve(body.size());
  for (const char c : body) {
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    const bool alphabet =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!alphabet) return Error(Errc::kInvalidArgument, "broken base64: a character outside the alphabet");
    compact += c;
  }
  // Some senders drop the padding; restore it rather than lose the text.
  while (compact.size() % 4 != 0) compact += '=';
  auto decoded = Base64Decode(compact);
  if (!decoded) return Error(Errc::kInvalidArgument, "broken base64");
  return std::move(*decoded);
}

std::string QuotedPrintable(std::string_view body, bool header) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (header && c == '_') {
      out += ' ';
    } else if (c == '=' && i + 1 < body.size()) {
      if (body[i + 1] == '\n') {  // soft line break
        i += 1;
      } else if (body[i + 1] == '\r' && i + 2 < body.size() && body[i + 2] == '\n') {
        i += 2;
      } else if (i + 2 < body.size() && HexValue(body[i + 1]) >= 0 && HexValue(body[i + 2]) >= 0) {
        out += static_cast<char>(HexValue(body[i + 1]) * 16 + HexValue(body[i + 2]));
        i += 2;
      } else {
        out += c;  // a stray '=' is kept, as lenient decoders do
      }
    } else {
      out += c;
    }
  }
  return out;
}

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};

std::string CanonicalCharset(std::string_view charset) {
  std::string c = ToLower(Trim(charset));
  if (c.size() >= 2 && c.front() == '"' && c.back() == '"') c = c.substr(1, c.size() - 2);
  // GB2312 and GBK mail routinely carries characters only their superset has.
  if (c == "gb2312" || c == "gbk" || c == "x-gbk" || c == "cp936" || c == "euc-cn" || c == "gb_2312-80") {
    return "gb18030";
  }
  if (c == "utf8") return "utf-8";
  if (c == "ascii" || c == "us-ascii" || c == "ansi_x3.4-1968") return "us-ascii";
  return c;
}

// A text part's bytes as UTF-8: the declared charset, else UTF-8, else GB18030 (Chinese mail
// without a charset).
Result<std::string> TextToUtf8(std::string_view bytes, std::string_view charset) {
  if (charset.empty()) {
    if (ValidUtf8(bytes)) return std::string(bytes);
    return ToUtf8(bytes, "gb18030");
  }
  auto text = ToUtf8(bytes, charset);
  if (!text && CanonicalCharset(charset) == "us-ascii") return ToUtf8(bytes, "gb18030");
  return text;
}

struct Walk {
  const ParseLimits& limits;
  ParsedMail& mail;
  int parts = 0;
};

Result<std::string> PartBytes(const Entity& e) {
  return DecodeTransfer(e.body, ParseHeaderValue(e.headers.Get("Content-Transfer-Encoding")).value);
}

void ReadDeliveryStatus(std::string_view text, Bounce& bounce) {
  // Per-recipient fields follow the per-message block; lines are "Name: value".
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = Trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = ToLower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "final-recipient" || (name == "original-recipient" && bounce.recipient.empty())) {
      const auto semi = value.find(';');
      if (semi != std::string_view::npos) value = Trim(value.substr(semi + 1));
      bounce.recipient = ToLower(value);
    } else if (name == "status") {
      bounce.status = std::string(value.substr(0, value.find_first_of(" \t(")));
    } else if (name == "action") {
      bounce.permanent = IEquals(value, "failed");
    }
  }
  bounce.permanent = bounce.permanent && !bounce.status.empty() && bounce.status.front() == '5';
}

Result<void> WalkEntity(Walk& w, std::string_view raw, int depth) {
  if (++w.parts > w.limits.max_parts) {
    return Error(Errc::kTooLarge, "more than " + std::to_string(w.limits.max_parts) + " MIME parts");
  }
  if (depth > w.limits.max_depth) {
    return Error(Errc::kTooLarge, "MIME parts nested deeper than " + std::to_string(w.limits.max_depth));
  }
  auto entity = SplitEntity(raw, w.limits);
  if (!entity) return entity.error();
  const HeaderValue type = ParseHeaderValue(entity->headers.Get("Content-Type"));
  const std::string content_type = type.value.empty() ? "text/plain" : type.value;
  if (content_type.rfind("multipart/", 0) == 0) {
    const auto boundary = type.params.find("boundary");
    if (boundary == type.params.end() || boundary->second.empty()) {
      return Error(Errc::kInvalidArgument, "a multipart part without a boundary");
    }
    auto parts = SplitMultipart(entity->body, boundary->second, w.limits.max_parts);
    if (!parts) return parts.error();
    if (content_type == "multipart/report") w.mail.bounce.emplace();
    for (const auto part : *parts) {
      if (auto r = WalkEntity(w, part, depth + 1); !r) return r;
    }
    return {};
  }
  const HeaderValue disposition = ParseHeaderValue(entity->headers.Get("Content-Disposition"));
  std::string filename;
  if (auto f = disposition.params.find("filename"); f != disposition.params.end()) filename = f->second;
  if (auto n = type.params.find("name"); filename.empty() && n != type.params.end()) filename = n->second;
  if (!filename.empty()) {
    auto decoded = DecodeHeaderText(filename);
    if (decoded) filename = std::move(*decoded);
  }
  auto bytes = PartBytes(*entity);
  if (!bytes) return bytes.error();
  if (w.mail.bounce &&
      (content_type == "message/delivery-status" || content_type == "message/global-delivery-status")) {
    ReadDeliveryStatus(NormaliseLineEnds(*bytes), *w.mail.bounce);
    return {};
  }
  if (w.mail.bounce && (content_type == "message/rfc822" || content_type == "text/rfc822-headers")) {
    auto returned = SplitEntity(*bytes, w.limits);
    if (returned) {
      const auto ids = ParseMessageIds(returned->headers.Get("Message-ID"));
      if (!ids.empty()) w.mail.bounce->original_message_id = ids.front();
    }
    return {};
  }
  const bool attachment = IEquals(disposition.value, "attachment") || !filename.empty();
  const bool text = content_type == "text/plain" || content_type == "text/html";
  if (text && !attachment) {
    const auto charset = type.params.find("charset");
    auto utf8 =
        TextToUtf8(*bytes, charset == type.params.end() ? std::string_view{} : std::string_view(charset->second));
    if (!utf8) return utf8.error();
    std::string& slot = content_type == "text/plain" ? w.mail.text : w.mail.html;
    if (slot.empty()) slot = NormaliseLineEnds(*utf8);
    return {};
  }
  if (content_type == "message/rfc822" && !attachment) filename = "message.eml";
  if (filename.empty()) filename = "attachment";
  w.mail.attachments.push_back({std::move(filename), content_type, std::move(*bytes)});
  return {};
}

bool Automatic(const Headers& h, std::string_view subject) {
  const auto auto_submitted = Trim(h.Get("Auto-Submitted"));
  if (!auto_submitted.empty() && !IEquals(auto_submitted, "no")) return true;
  if (h.Has("X-Autoreply") || h.Has("X-Autorespond") || h.Has("X-Autoreply-From")) return true;
  const auto precedence = ToLower(Trim(h.Get("Precedence")));
  if (precedence == "auto_reply" || precedence == "bulk" || precedence == "junk" || precedence == "list") return true;
  if (Trim(h.Get("Return-Path")) == "<>") return true;
  for (std::string_view prefix : {"自动回复", "自动答复", "Auto:", "Automatic reply", "Auto-Reply", "Autoreply",
                                  "Out of Office", "Out of the office", "休假", "Undeliverable", "退信"}) {
    if (IStartsWith(Trim(subject), prefix)) return true;
  }
  return false;
}

}  // namespace

std::string_view Headers::Get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (IEquals(n, name)) return v;
  }
  return {};
}

bool Headers::Has(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(), [name](const auto& f) { return IEquals(f.first, name); });
}

HeaderValue ParseHeaderValue(std::string_view raw) {
  HeaderValue out;
  std::size_t i = 0;
  const auto semi = raw.find(';');
  out.value = ToLower(Trim(raw.substr(0, semi)));
  if (semi == std::string_view::npos) return out;
  i = semi + 1;
  // Continuations (name*0, name*1*, ...) collected by index, then joined.
  std::map<std::string, std::map<int, std::pair<std::string, bool>>> pieces;
  while (i < raw.size()) {
    while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == ';' || raw[i] == '\r' || raw[i] == '\n')) {
      ++i;
    }
    const auto eq = raw.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = ToLower(Trim(raw.substr(i, eq - i)));
    i = eq + 1;
    while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t')) ++i;
    std::string value;
    if (i < raw.size() && raw[i] == '"') {
      ++i;
      while (i < raw.size() && raw[i] != '"') {
        if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
        value += raw[i++];
      }
      ++i;
    } else {
      const auto end = raw.find(';', i);
      value = std::string(Trim(raw.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i)));
      i = end == std::string_view::npos ? raw.size() : end;
    }
    bool extended = false;
    if (!name.empty() && name.back() == '*') {
      extended = true;
      name.pop_back();
    }
    int index = -1;
    if (const auto star = name.find('*'); star != std::string::npos) {
      index = std::atoi(name.c_str() + star + 1);
      name.resize(star);
    }
    if (index < 0) {
      if (extended) {
        pieces[name][0] = {value, true};
      } else if (!out.params.contains(name)) {
        out.params[name] = value;
      }
    } else if (index < 100) {
      pieces[name][index] = {value, extended};
    }
  }
  for (auto& [name, parts] : pieces) {
    std::string charset;
    std::string joined;
    bool first = true;
    for (auto& [index, piece] : parts) {
      std::string v = piece.first;
      if (piece.second) {
        if (first) {
          // charset'language'value
          const auto q1 = v.find('\'');
          const auto q2 = q1 == std::string::npos ? std::string::npos : v.find('\'', q1 + 1);
          if (q2 != std::string::npos) {
            charset = v.substr(0, q1);
            v = v.substr(q2 + 1);
          }
        }
        v = PercentDecode(v);
      }
      joined += v;
      first = false;
    }
    if (!charset.empty()) {
      if (auto utf8 = ToUtf8(joined, charset)) joined = std::move(*utf8);
    }
    out.params[name] = std::move(joined);  // the extended form wins over a plain one
  }
  return out;
}

Result<std::string> ToUtf8(std::string_view bytes, std::string_view charset) {
  const std::string cs = CanonicalCharset(charset);
  if (cs == "utf-8" || cs == "us-ascii") {
    if (!ValidUtf8(bytes)) return Error(Errc::kInvalidArgument, "text is not valid " + cs);
    return std::string(bytes);
  }
  const iconv_t raw = iconv_open("UTF-8", cs.c_str());
  if (raw == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr): iconv's own error value
    return Error(Errc::kInvalidArgument, "unknown charset \"" + std::string(charset.substr(0, 40)) + "\"");
  }
  const std::unique_ptr<void, IconvCloser> cd(raw);
  std::string out;
  out.resize(bytes.size() * 2 + 16);
  std::string in(bytes);
  char* in_ptr = in.data();
  std::size_t in_left = in.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  while (in_left > 0) {
    const std::size_t r = iconv(raw, &in_ptr, &in_left, &out_ptr, &out_left);
    if (r != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      const std::size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      out_ptr = out.data() + used;
      out_left = out.size() - used;
    } else if (errno == EILSEQ || errno == EINVAL) {
      // One bad byte: U+FFFD and on, as mail clients show it.
      if (out_left < 3) {
        const std::size_t used = out.size() - out_left;
        out.resize(out.size() * 2);
        out_ptr = out.data() + used;
        out_left = out.size() - used;
      }
      constexpr std::array<char, 3> kReplacement = {'\xEF', '\xBF', '\xBD'};  // U+FFFD
      std::copy(kReplacement.begin(), kReplacement.end(), out_ptr);
      out_ptr += kReplacement.size();
      out_left -= 3;
      ++in_ptr;
      --in_left;
    } else {
      return Error(Errc::kInvalidArgument, "cannot convert from " + cs);
    }
  }
  out.resize(out.size() - out_left);
  return out;
}

Result<std::string> DecodeHeaderText(std::string_view raw) {
  std::string out;
  std::size_t i = 0;
  bool last_was_word = false;
  std::string pending_space;
  while (i < raw.size()) {
    const auto start = raw.find("=?", i);
    if (start == std::string_view::npos) {
      out += pending_space;
      out.append(raw.substr(i));
      break;
    }
    // =?charset?X?text?=
    const auto q1 = raw.find('?', start + 2);
    const auto q2 = q1 == std::string_view::npos ? q1 : raw.find('?', q1 + 1);
    const auto end = q2 == std::string_view::npos ? q2 : raw.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      out += pending_space;
      out.append(raw.substr(i, start + 2 - i));
      pending_space.clear();
      last_was_word = false;
      i = start + 2;
      continue;
    }
    const std::string_view between = raw.substr(i, start - i);
    const bool only_space = Trim(between).empty();
    if (!(last_was_word && only_space)) {
      out += pending_space;
      out.append(between);
    }
    pending_space.clear();
    std::string_view charset = raw.substr(start + 2, q1 - start - 2);
    if (const auto star = charset.find('*'); star != std::string_view::npos) charset = charset.substr(0, star);
    const char encoding = Lower(raw[q1 + 1]);
    const std::string_view text = raw.substr(q2 + 1, end - q2 - 1);
    std::string bytes;
    if (encoding == 'b') {
      auto decoded = Base64Lenient(text);
      if (!decoded) return decoded.error();
      bytes = std::move(*decoded);
    } else if (encoding == 'q') {
      bytes = QuotedPrintable(text, true);
    } else {
      return Error(Errc::kInvalidArgument, "an encoded word with an unknown encoding");
    }
    auto utf8 = ToUtf8(bytes, charset);
    if (!utf8) return utf8.error();
    out += *utf8;
    last_was_word = true;
    i = end + 2;
  }
  // Raw 8-bit header text (some clients send it): UTF-8 if it is, else GB18030.
  if (!ValidUtf8(out)) return ToUtf8(out, "gb18030");
  return out;
}

Result<std::string> DecodeTransfer(std::string_view body, std::string_view encoding) {
  const std::string e = ToLower(Trim(encoding));
  if (e == "base64") return Base64Lenient(body);
  if (e == "quoted-printable") return QuotedPrintable(body, false);
  if (e.empty() || e == "7bit" || e == "8bit" || e == "binary") return std::string(body);
  return Error(Errc::kInvalidArgument,
               "unknown Content-Transfer-Encoding \"" + std::string(encoding.substr(0, 40)) + "\"");
}

Result<std::vector<std::string_view>> SplitMultipart(std::string_view body, std::string_view boundary, int max_parts) {
  if (boundary.size() > 200) return Error(Errc::kInvalidArgument, "a boundary longer than 200 characters");
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  std::size_t part_start = std::string_view::npos;
  while (pos <= body.size()) {
    const auto found = body.find(delimiter, pos);
    if (found == std::string_view::npos) break;
    const bool at_line_start = found == 0 || body[found - 1] == '\n';
    if (!at_line_start) {
      pos = found + 1;
      continue;
    }
    const std::size_t after = found + delimiter.size();
    const bool closing = body.substr(after, 2) == "--";
    if (part_start != std::string_view::npos) {
      // The CRLF before the delimiter belongs to the delimiter.
      std::size_t end = found;
      if (end > part_start && body[end - 1] == '\n') --end;
      if (end > part_start && body[end - 1] == '\r') --end;
      parts.push_back(body.substr(part_start, end - part_start));
      if (static_cast<int>(parts.size()) > max_parts) {
        return Error(Errc::kTooLarge, "more than " + std::to_string(max_parts) + " MIME parts");
      }
    }
    if (closing) return parts;
    const auto nl = body.find('\n', after);
    if (nl == std::string_view::npos) break;
    part_start = nl + 1;
    pos = part_start;
  }
  // No closing delimiter: take what was opened (truncated senders), but a body with no
  // delimiter at all is not multipart.
  if (part_start == std::string_view::npos) return Error(Errc::kInvalidArgument, "multipart boundary not found");
  parts.push_back(body.substr(part_start));
  return parts;
}

Result<Entity> SplitEntity(std::string_view raw, const ParseLimits& limits) {
  Entity out;
  std::size_t pos = 0;
  std::string name;
  std::string value;
  int fields = 0;
  const auto flush = [&] {
    if (!name.empty()) out.headers.Add(std::move(name), std::string(Trim(value)));
    name.clear();
    value.clear();
  };
  while (true) {
    if (pos > limits.max_header_bytes) {
      return Error(Errc::kTooLarge, "a header block larger than " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    if (pos >= raw.size()) {  // headers only, no body
      flush();
      out.body = {};
      return out;
    }
    const auto nl = raw.find('\n', pos);
    std::string_view line = raw.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    const std::size_t next = nl == std::string_view::npos ? raw.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      flush();
      out.body = raw.substr(next);
      return out;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (name.empty()) return Error(Errc::kInvalidArgument, "a header continuation line with no header");
      value += ' ';
      value.append(Trim(line));
    } else {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        // Not a header: the message has no header block end here (e.g. a body without the
        // blank line). Mbox "From " lines at the very top are skipped.
        if (pos == 0 && line.rfind("From ", 0) == 0) {
          pos = next;
          continue;
        }
        return Error(Errc::kInvalidArgument, "a header line without a colon");
      }
      flush();
      if (++fields > limits.max_header_fields) {
        return Error(Errc::kTooLarge, "more than " + std::to_string(limits.max_header_fields) + " header fields");
      }
      name = std::string(Trim(line.substr(0, colon)));
      value = std::string(line.substr(colon + 1));
    }
    pos = next;
  }
}

Mailbox ParseMailbox(std::string_view decoded) {
  Mailbox m;
  const auto lt = decoded.rfind('<');
  const auto gt = lt == std::string_view::npos ? lt : decoded.find('>', lt);
  if (lt != std::string_view::npos && gt != std::string_view::npos) {
    m.address = ToLower(Trim(decoded.substr(lt + 1, gt - lt - 1)));
    std::string_view name = Trim(decoded.substr(0, lt));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    std::string unescaped;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\' && i + 1 < name.size()) ++i;
      unescaped += name[i];
    }
    m.name = std::move(unescaped);
    return m;
  }
  // addr (Name) or a bare address
  std::string_view rest = Trim(decoded);
  if (const auto paren = rest.find('('); paren != std::string_view::npos) {
    const auto close = rest.find(')', paren);
    m.name = std::string(rest.substr(paren + 1, close == std::string_view::npos ? close : close - paren - 1));
    rest = Trim(rest.substr(0, paren));
  }
  m.address = ToLower(rest);
  return m;
}

std::vector<std::string> ParseAddressList(std::string_view decoded) {
  std::vector<std::string> out;
  std::size_t start = 0;
  bool quoted = false;
  int angle = 0;
  for (std::size_t i = 0; i <= decoded.size(); ++i) {
    const char c = i < decoded.size() ? decoded[i] : ',';
    if (c == '"' && (i == 0 || decoded[i - 1] != '\\')) quoted = !quoted;
    if (quoted) continue;
    if (c == '<') ++angle;
    if (c == '>' && angle > 0) --angle;
    if ((c == ',' || c == ';') && angle == 0) {
      std::string_view item = Trim(decoded.substr(start, i - start));
      // Group syntax "team: a@x, b@y;" — drop the group name.
      if (const auto colon = item.find(':');
          colon != std::string_view::npos && item.find('<') > colon && item.find('@') > colon) {
        item = Trim(item.substr(colon + 1));
      }
      if (!item.empty()) {
        auto m = ParseMailbox(item);
        if (m.address.find('@') != std::string::npos) out.push_back(std::move(m.address));
      }
      start = i + 1;
    }
  }
  return out;
}

std::vector<std::string> ParseMessageIds(std::string_view raw) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    const auto lt = raw.find('<', pos);
    if (lt == std::string_view::npos) break;
    const auto gt = raw.find('>', lt);
    if (gt == std::string_view::npos) break;
    const auto id = Trim(raw.substr(lt + 1, gt - lt - 1));
    if (!id.empty() && id.size() <= 998) out.emplace_back(id);
    pos = gt + 1;
  }
  // Some clients drop the brackets on a single id.
  if (out.empty() && !Trim(raw).empty() && Trim(raw).find(' ') == std::string_view::npos) out.emplace_back(Trim(raw));
  return out;
}

std::string HtmlToText(std::string_view html, bool cut_quotes) {
  std::string_view source = html;
  if (cut_quotes) {
    std::size_t cut = source.size();
    for (std::string_view marker : {"<blockquote", "gmail_quote", "divrplyfwdmsg", "appendonsend", "原始邮件",
                                    "yahoo_quoted", "moz-cite-prefix"}) {
      auto at = IFind(source, marker);
      if (at == std::string_view::npos) continue;
      if (marker.front() != '<') {  // an attribute or text: cut at the tag that holds it
        const auto tag = source.rfind('<', at);
        if (tag != std::string_view::npos) at = tag;
      }
      cut = std::min(cut, at);
    }
    source = source.substr(0, cut);
  }
  std::string out;
  std::size_t i = 0;
  while (i < source.size()) {
    const char c = source[i];
    if (c == '<') {
      const auto end = source.find('>', i);
      if (end == std::string_view::npos) break;
      const std::string_view tag = source.substr(i + 1, end - i - 1);
      std::string name;
      for (std::size_t k = (tag.empty() || tag[0] != '/') ? 0 : 1; k < tag.size(); ++k) {
        const char t = tag[k];
        if (t == ' ' || t == '/' || t == '\t' || t == '\n' || t == '\r') break;
        name += Lower(t);
      }
      if (name == "script" || name == "style" || name == "head" || name == "title") {
        if (!tag.empty() && tag[0] != '/') {
          const auto close = IFind(source, "</" + name, end);
          i = close == std::string_view::npos ? source.size() : close;
          continue;
        }
      }
      if (name == "br" || name == "p" || name == "div" || name == "tr" || name == "li" || name == "h1" ||
          name == "h2" || name == "h3" || name == "table") {
        if (!out.empty() && out.back() != '\n') out += '\n';
      }
      i = end + 1;
      continue;
    }
    if (c == '&') {
      const auto semi = source.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string entity = ToLower(source.substr(i + 1, semi - i - 1));
        std::string decoded;
        if (entity == "nbsp") decoded = " ";
        if (entity == "lt") decoded = "<";
        if (entity == "gt") decoded = ">";
        if (entity == "amp") decoded = "&";
        if (entity == "quot") decoded = "\"";
        if (entity == "apos" || entity == "#39") decoded = "'";
        if (decoded.empty() && entity.size() > 1 && entity[0] == '#') {
          const bool hex = entity[1] == 'x';
          const long cp = std::strtol(entity.c_str() + (hex ? 2 : 1), nullptr, hex ? 16 : 10);
          if (cp > 0 && cp < 0x110000) {
            const auto u = static_cast<std::uint32_t>(cp);
            if (u < 0x80) {
              decoded += static_cast<char>(u);
            } else if (u < 0x800) {
              decoded += static_cast<char>(0xC0 | (u >> 6));
              decoded += static_cast<char>(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
              decoded += static_cast<char>(0xE0 | (u >> 12));
              decoded += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
              decoded += static_cast<char>(0x80 | (u & 0x3F));
            } else {
              decoded += static_cast<char>(0xF0 | (u >> 18));
              decoded += static_cast<char>(0x80 | ((u >> 12) & 0x3F));
              decoded += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
              decoded += static_cast<char>(0x80 | (u & 0x3F));
            }
          }
        }
        if (!decoded.empty()) {
          out += decoded;
          i = semi + 1;
          continue;
        }
      }
    }
    if (c == '\r' || c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
    } else {
      out += c;
    }
    ++i;
  }
  return std::string(Trim(out));
}

Result<ParsedMail> ParseMail(std::string_view raw, const ParseLimits& limits) {
  if (raw.size() > limits.max_bytes) {
    return Error(Errc::kTooLarge, "a message larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  ParsedMail mail;
  auto top = SplitEntity(raw, limits);
  if (!top) return top.error();
  mail.headers = top->headers;
  const auto decode = [](std::string_view v) {
    auto d = DecodeHeaderText(v);
    return d ? std::move(*d) : std::string(v);
  };
  auto subject = DecodeHeaderText(mail.headers.Get("Subject"));
  if (!subject) return subject.error();
  mail.subject = std::move(*subject);
  mail.from = ParseMailbox(decode(mail.headers.Get("From")));
  for (std::string_view h : {"To", "Cc"}) {
    for (auto& a : ParseAddressList(decode(mail.headers.Get(h)))) mail.recipients.push_back(std::move(a));
  }
  if (auto ids = ParseMessageIds(mail.headers.Get("Message-ID")); !ids.empty()) mail.message_id = ids.front();
  if (auto ids = ParseMessageIds(mail.headers.Get("In-Reply-To")); !ids.empty()) mail.in_reply_to = ids.back();
  mail.references = ParseMessageIds(mail.headers.Get("References"));
  mail.automatic = Automatic(mail.headers, mail.subject);
  Walk walk{limits, mail};
  if (auto r = WalkEntity(walk, raw, 0); !r) return r.error();
  if (mail.bounce && mail.bounce->status.empty()) mail.bounce.reset();  // a report, but not a delivery one
  if (mail.bounce) mail.automatic = true;
  if (auto r = CheckAttachments(mail, limits); !r) return r.error();
  return mail;
}

Result<void> CheckAttachments(const ParsedMail& mail, const ParseLimits& limits) {
  if (mail.attachments.size() > static_cast<std::size_t>(limits.max_attachments)) {
    return Error(Errc::kTooLarge, std::to_string(mail.attachments.size()) + " attachments; at most " +
                                      std::to_string(limits.max_attachments) + " are taken from one mail");
  }
  for (const auto& a : mail.attachments) {
    if (a.data.size() > limits.max_attachment_bytes) {
      return Error(Errc::kTooLarge, "attachment \"" + a.filename + "\" has " + std::to_string(a.data.size()) +
                                        " bytes; at most " + std::to_string(limits.max_attachment_bytes) +
                                        " are taken");
    }
  }
  return {};
}

}  // namespace duijie::channels::email
