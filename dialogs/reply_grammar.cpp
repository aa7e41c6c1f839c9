#include "dialogs/reply_grammar.hpp"

#include <algorithm>
#include <array>

#include "matcher/normalize.hpp"

namespace duijie::dialogs {
namespace {

constexpr std::string_view kLetters = "ABCDEFGHJKMNPQRSTUVWXYZ";
constexpr std::string_view kDigits = "23456789";

// Lower case, as NormalizeReply leaves them.
constexpr std::array<std::string_view, 22> kAccept = {
    "1",    "y",    "yes",  "ok",     "是",     "是的",   "好",       "好的", "可以",   "接受", "同意",
    "愿意", "有意", "意向", "有意向", "感兴趣", "有兴趣", "我有兴趣", "行",   "没问题", "参加", "我愿意"};
constexpr std::array<std::string_view, 24> kDecline = {
    "2",        "no",     "不",       "否",     "拒绝",     "不要",    "不用", "不需要",       "暂不",
    "暂不考虑", "不考虑", "不感兴趣", "没兴趣", "没有兴趣", "没时间",  "没空", "不是我的领域", "不合适",
    "算了",     "不接受", "不同意",   "不了",   "不参加",   "谢谢不用"};
constexpr std::array<std::string_view, 11> kUnsubscribe = {"td",   "t",           "r",        "n",    "退订",    "退定",
                                                           "stop", "unsubscribe", "退订短信", "拒收", "不要再发"};

bool IsSpace(char c) { return c == ' '; }

// Punctuation a keyboard adds around a one-word answer, ASCII and CJK (UTF-8).
constexpr std::array<std::string_view, 24> kPunctuation = {".",  ",",  "!",  "?",  ";",  ":",  "~",  "'",
                                                           "\"", "-",  "(",  ")",  "。", "，", "！", "？",
                                                           "；", "：", "～", "、", "…",  "“",  "”",  "·"};

bool StripPunctuationPrefix(std::string& s) {
  for (const auto p : kPunctuation) {
    if (s.starts_with(p)) {
      s.erase(0, p.size());
      return true;
    }
  }
  if (!s.empty() && IsSpace(s.front())) {
    s.erase(0, 1);
    return true;
  }
  return false;
}

bool StripPunctuationSuffix(std::string& s) {
  for (const auto p : kPunctuation) {
    if (s.ends_with(p)) {
      s.resize(s.size() - p.size());
      return true;
    }
  }
  if (!s.empty() && IsSpace(s.back())) {
    s.pop_back();
    return true;
  }
  return false;
}

template <std::size_t N>
bool In(const std::array<std::string_view, N>& words, std::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

// The keyword a reply starts with, longest first, and the intent it means.
std::optional<std::pair<ReplyIntent, std::size_t>> LeadingKeyword(std::string_view s) {
  std::optional<std::pair<ReplyIntent, std::size_t>> best;
  auto consider = [&](ReplyIntent intent, std::string_view w) {
    if (!s.starts_with(w) || (best && best->second >= w.size())) return;
    // A Latin keyword must end at a word boundary: "yesterday" is not "yes", "ta" is not "t".
    const bool latin = (w.front() >= 'a' && w.front() <= 'z') || (w.front() >= '0' && w.front() <= '9');
    if (latin && s.size() > w.size()) {
      const char next = s[w.size()];
      if ((next >= 'a' && next <= 'z') || (next >= '0' && next <= '9')) {
        // "1a7k": a digit answer glued to a reply code is still the digit answer.
        if (!(w == "1" || w == "2") || !IsReplyCode(std::string(s.substr(1, 3)))) return;
      }
    }
    best = std::make_pair(intent, w.size());
  };
  for (const auto w : kAccept) consider(ReplyIntent::kAccept, w);
  for (const auto w : kDecline) consider(ReplyIntent::kDecline, w);
  for (const auto w : kUnsubscribe) consider(ReplyIntent::kUnsubscribe, w);
  return best;
}

std::string Upper(std::string s) {
  for (auto& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return s;
}

}  // namespace

std::string NormalizeReply(std::string_view text) {
  std::string s = matcher::NormalizeSpaces(text);
  while (StripPunctuationPrefix(s)) {
  }
  while (StripPunctuationSuffix(s)) {
  }
  return s;
}

bool IsReplyCode(std::string_view token) {
  if (token.size() != 3) return false;
  auto letter = [](char c) {
    return kLetters.find(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c)) != std::string_view::npos;
  };
  return letter(token[0]) && kDigits.find(token[1]) != std::string_view::npos && letter(token[2]);
}

std::string MakeReplyCode(double r1, double r2, double r3) {
  auto pick = [](std::string_view from, double r) {
    const auto i = std::min(from.size() - 1, static_cast<std::size_t>(r * static_cast<double>(from.size())));
    return from[i];
  };
  return {pick(kLetters, r1), pick(kDigits, r2), pick(kLetters, r3)};
}

ParsedReply ParseReply(std::string_view text) {
  std::string s = NormalizeReply(text);
  ParsedReply out;
  // A reply code anywhere as its own token, or glued to the front or back of the answer.
  auto take_code = [&](std::size_t pos) {
    out.code = Upper(s.substr(pos, 3));
    s.erase(pos, 3);
    s = NormalizeReply(s);
  };
  if (s.size() >= 3 && IsReplyCode(s.substr(0, 3)) && (s.size() == 3 || !(s[3] >= 'a' && s[3] <= 'z'))) {
    take_code(0);
  } else if (s.size() >= 3 && IsReplyCode(s.substr(s.size() - 3)) &&
             (s.size() == 3 || !(s[s.size() - 4] >= 'a' && s[s.size() - 4] <= 'z'))) {
    take_code(s.size() - 3);
  }
  if (s.empty()) return out;
  const auto keyword = LeadingKeyword(s);
  if (!keyword) {
    out.rest = s;
    return out;
  }
  std::string rest = NormalizeReply(s.substr(keyword->second));
  // An unsubscribe keyword must be the whole reply: "t恤" or "r语言" are words, not requests.
  if (keyword->first == ReplyIntent::kUnsubscribe && !rest.empty()) {
    out.rest = s;
    return out;
  }
  // "不错" or "好久不见": a one-character keyword run into more Chinese is a sentence, not an
  // answer, unless the answer is a digit ("2没时间") or separated from what follows ("不，没时间").
  const std::string_view after = std::string_view(s).substr(keyword->second);
  const bool separated =
      after.empty() || after.front() == ' ' ||
      std::any_of(kPunctuation.begin(), kPunctuation.end(), [&](std::string_view p) { return after.starts_with(p); });
  const bool digit = s[0] == '1' || s[0] == '2';
  constexpr std::size_t kOneCjkCharacter = 3;
  if (!separated && !digit && keyword->second <= kOneCjkCharacter) {
    out.rest = s;
    return out;
  }
  out.intent = keyword->first;
  out.rest = std::move(rest);
  return out;
}

}  // namespace duijie::dialogs
