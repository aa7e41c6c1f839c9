#include "channels/email/reply_text.hpp"

#include <algorithm>
#include <vector>

namespace duijie::channels::email {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  const auto space = [](std::string_view v, bool front) {
    if (v.empty()) return std::size_t{0};
    const std::string_view ideographic = "\xE3\x80\x80";  // U+3000
    if (front ? v.substr(0, 3) == ideographic : (v.size() >= 3 && v.substr(v.size() - 3) == ideographic))
      return std::size_t{3};
    const char c = front ? v.front() : v.back();
    return (c == ' ' || c == '\t' || c == '\r' || c == '\n') ? std::size_t{1} : std::size_t{0};
  };
  for (std::size_t n = space(s, true); n > 0; n = space(s, true)) s.remove_prefix(n);
  for (std::size_t n = space(s, false); n > 0; n = space(s, false)) s.remove_suffix(n);
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool Contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

bool EndsWithColon(std::string_view s) { return EndsWith(s, ":") || EndsWith(s, "\xEF\xBC\x9A"); }

// "name:" or "name：" at the start of the line.
bool Field(std::string_view line, std::string_view name) {
  if (!StartsWith(line, name)) return false;
  const auto after = line.substr(name.size());
  return StartsWith(after, ":") || StartsWith(after, "\xEF\xBC\x9A") || StartsWith(after, " :");
}

bool DashRun(std::string_view s, std::size_t min) {
  std::size_t n = 0;
  while (n < s.size() && s[n] == '-') ++n;
  return n >= min;
}

bool Underscores(std::string_view s) {
  return s.size() >= 30 && std::all_of(s.begin(), s.end(), [](char c) { return c == '_'; });
}

// Whether a header block (Outlook, Coremail, QQ) starts at line i: a "from" field, then within
// a few lines a date field and a subject field.
bool HeaderBlock(const std::vector<std::string_view>& lines, std::size_t i) {
  const auto from = [](std::string_view l) { return Field(l, "发件人") || Field(l, "From") || Field(l, "寄件者"); };
  const auto date = [](std::string_view l) {
    return Field(l, "发送时间") || Field(l, "日期") || Field(l, "时间") || Field(l, "Sent") || Field(l, "Date") ||
           Field(l, "寄件日期");
  };
  const auto subject = [](std::string_view l) { return Field(l, "主题") || Field(l, "Subject") || Field(l, "主旨"); };
  if (!from(lines[i])) return false;
  bool saw_date = false;
  for (std::size_t k = i + 1; k < lines.size() && k <= i + 6; ++k) {
    if (date(lines[k])) saw_date = true;
    if (subject(lines[k]) && saw_date) return true;
  }
  return false;
}

bool QuoteHeader(const std::vector<std::string_view>& lines, std::size_t i) {
  const std::string_view line = lines[i];
  const std::string_view next = i + 1 < lines.size() ? lines[i + 1] : std::string_view{};
  // Gmail (en), possibly wrapped onto the next line.
  if (StartsWith(line, "On ") && (EndsWith(line, "wrote:") || (EndsWith(next, "wrote:") && !next.empty()))) {
    return true;
  }
  // Gmail (zh): "… <a@b> 于2021年4月7日周三 下午3:51写道：", NetEase/Apple: "在 … 写道：".
  if (Contains(line, "写道") && EndsWithColon(line)) return true;
  if (StartsWith(line, "在") && Contains(line, "\xEF\xBC\x8C") && EndsWith(next, "写道：")) return true;
  if (Contains(line, "原始邮件") && (DashRun(line, 5) || StartsWith(line, "------"))) return true;
  if (Contains(line, "Original") && DashRun(line, 5)) return true;  // "-----Original Message-----", QQ (en)
  if (Contains(line, "Forwarded message") && DashRun(line, 5)) return true;
  if (Contains(line, "转发的邮件") && DashRun(line, 5)) return true;
  if (Underscores(line)) return true;  // Outlook's rule before its header block
  return HeaderBlock(lines, i);
}

bool SignatureLine(std::string_view line) {
  if (line == "--" || line == "-- ") return true;
  for (std::string_view p :
       {"Sent from my ", "Sent from Mail", "Get Outlook for ", "发自我的", "来自网易邮箱", "从我的 iPhone 发送",
        "从我的iPhone发送", "发自 网易邮箱", "来自我的华为", "发自手机QQ邮箱"}) {
    if (StartsWith(line, p)) return true;
  }
  return false;
}

}  // namespace

std::string ExtractReply(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  if (StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      clean += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text.substr(i, 2) == "\xC2\xA0") {  // no-break space
      clean += ' ';
      ++i;
    } else {
      clean += text[i];
    }
  }
  std::vector<std::string_view> raw_lines;
  std::vector<std::string_view> lines;  // trimmed, for matching
  for (std::size_t pos = 0; pos <= clean.size();) {
    const auto nl = clean.find('\n', pos);
    const std::string_view l =
        std::string_view(clean).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    raw_lines.push_back(l);
    lines.push_back(TrimSpaces(l));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::size_t end = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (QuoteHeader(lines, i) || StartsWith(lines[i], ">")) {
      end = i;
      break;
    }
  }
  // A signature: the last signature line within the last few lines before the cut.
  for (std::size_t i = end; i > 0 && end - i < 8; --i) {
    if (SignatureLine(lines[i - 1])) {
      end = i - 1;
      break;
    }
  }
  std::string out;
  for (std::size_t i = 0; i < end; ++i) {
    out.append(raw_lines[i]);
    out += '\n';
  }
  const std::string_view reply = TrimSpaces(out);
  if (reply.empty()) return std::string(TrimSpaces(clean));
  return std::string(reply);
}

}  // namespace duijie::channels::email
