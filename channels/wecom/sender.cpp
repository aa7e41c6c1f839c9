#include "channels/wecom/sender.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "channels/wecom/message.hpp"
#include "channels/wecom/render.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;
constexpr auto kRefreshBefore = std::chrono::minutes(5);

bool TokenRejected(int errcode) { return errcode == 40014 || errcode == 42001 || errcode == 42007 || errcode == 42009; }
bool RateLimited(int errcode) { return errcode == 45009 || errcode == 45033 || errcode == 45011; }

store::AttemptRecord Record(store::AttemptOutcome outcome, std::string ref, std::string error) {
  return {outcome, "wecom", std::move(ref), std::move(error)};
}

std::vector<std::string> SplitPipe(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto bar = list.find('|');
    if (bar != 0) out.emplace_back(list.substr(0, bar));
    if (bar == std::string_view::npos) break;
    list.remove_prefix(bar + 1);
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::size_t CountRecipients(std::string_view touser) { return SplitPipe(touser).size(); }

// The recipients (as we spelled them) that WeCom listed as invalid.
std::vector<std::string> InvalidRecipients(std::string_view listed, std::string_view touser) {
  std::vector<std::string> out;
  if (listed.empty()) return out;
  const auto invalid = SplitPipe(listed);
  for (auto& user : SplitPipe(touser)) {
    if (std::find(invalid.begin(), invalid.end(), Lower(user)) != invalid.end()) out.push_back(std::move(user));
  }
  // Ids we cannot match (WeCom changed the spelling) still count.
  if (out.empty()) return invalid;
  return out;
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) {
    if (!out.empty()) out += '|';
    out += s;
  }
  return out;
}

}  // namespace

net::awaitable<Result<std::string>> AccessTokenCache::Get() {
  if (!token_.empty() && clock_.Now() + kRefreshBefore < expires_at_) co_return token_;
  if (inflight_) {
    // Someone is fetching: wait for that fetch instead of starting another (single flight).
    auto timer = inflight_;
    co_await timer->async_wait(net::as_tuple(net::use_awaitable));
    co_return last_fetch_;
  }
  inflight_ =
      std::make_shared<net::steady_timer>(co_await net::this_coro::executor, net::steady_timer::time_point::max());
  last_fetch_ = co_await Fetch();
  auto done = std::move(inflight_);
  done->cancel();
  co_return last_fetch_;
}

void AccessTokenCache::Invalidate(const std::string& token) {
  if (token == token_) token_.clear();
}

net::awaitable<Result<std::string>> AccessTokenCache::Fetch() {
  ++fetches_;
  ClientRequest req;
  req.url = settings_.api_base + "/cgi-bin/gettoken?corpid=" + settings_.corp_id + "&corpsecret=" + settings_.secret;
  req.timeout = settings_.timeout;
  auto res = co_await http_.Send(req);
  if (!res) co_return res.error();
  json body = json::parse(res->body, nullptr, false);
  if (res->status != 200 || !body.is_object()) {
    co_return Error(Errc::kUnavailable, "gettoken: HTTP " + std::to_string(res->status));
  }
  const int errcode = body.value("errcode", -1);
  if (errcode != 0 || !body.contains("access_token")) {
    // 40001 (bad secret) and 40013 (bad corp id) are configuration errors: reported, not retried
    // in a loop — the next Get() after the caller's backoff tries again.
    co_return Error(errcode == 40001 || errcode == 40013 ? Errc::kPermissionDenied : Errc::kUnavailable,
                    "gettoken: errcode " + std::to_string(errcode) + " " + body.value("errmsg", ""));
  }
  token_ = body["access_token"].get<std::string>();
  expires_at_ = clock_.Now() + std::chrono::seconds(body.value("expires_in", 7200));
  co_return token_;
}

net::awaitable<store::AttemptRecord> Sender::Send(const store::OutboxMessage& msg) {
  dialogs::OutboundMessage out;
  try {
    out = json::parse(msg.payload).get<dialogs::OutboundMessage>();
  } catch (const std::exception& e) {
    co_return Record(store::AttemptOutcome::kFailed, "", std::string("payload is not a message: ") + e.what());
  }
  auto calls = RenderAppMessage(out, msg.recipient, std::atoll(settings_.agent_id.c_str()));
  if (!calls) co_return Record(store::AttemptOutcome::kFailed, "", calls.error().message);
  if (calls->size() > 1) {
    // A long text goes out in parts. WeCom drops an identical request inside the interval, so a
    // retry after part 2 failed does not deliver part 1 twice.
    for (auto& call : *calls) {
      call.body["enable_duplicate_check"] = 1;
      call.body["duplicate_check_interval"] = 4 * 3600;
    }
  }
  store::AttemptRecord sent = Record(store::AttemptOutcome::kSent, "", "");
  for (const auto& call : *calls) {
    auto record = co_await Call(call, msg.recipient);
    if (record.outcome != store::AttemptOutcome::kSent) co_return record;
    if (!sent.provider_ref.empty() && !record.provider_ref.empty()) sent.provider_ref += ',';
    sent.provider_ref += record.provider_ref;
    if (sent.error.empty()) sent.error = std::move(record.error);  // e.g. the members not reached
  }
  co_return sent;
}

net::awaitable<store::AttemptRecord> Sender::Call(const ApiCall& call, std::string_view recipient) {
  const std::string body = call.body.dump();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto token = co_await tokens_.Get();
    if (!token) {
      co_return Record(store::AttemptOutcome::kRetryable, "", token.error().message);
    }
    ClientRequest req;
    req.method = "POST";
    req.url = settings_.api_base + call.path + "?access_token=" + *token;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body;
    req.timeout = settings_.timeout;
    auto res = co_await http_.Send(req);
    if (!res) {
      // Not connected: nothing reached WeCom. Anything else: it may have been delivered.
      const bool unsent = res.error().code == Errc::kUnavailable || res.error().code == Errc::kInvalidArgument;
      co_return Record(unsent ? store::AttemptOutcome::kRetryable : store::AttemptOutcome::kUnknown, "",
                       res.error().message);
    }
    if (res->status >= 500)
      co_return Record(store::AttemptOutcome::kRetryable, "", "HTTP " + std::to_string(res->status));
    const json answer = json::parse(res->body, nullptr, false);
    if (!answer.is_object()) {
      co_return Record(store::AttemptOutcome::kUnknown, "", "unreadable answer, HTTP " + std::to_string(res->status));
    }
    const int errcode = answer.value("errcode", -1);
    const std::string errmsg = "errcode " + std::to_string(errcode) + " " + answer.value("errmsg", "");
    if (TokenRejected(errcode)) {
      tokens_.Invalidate(*token);
      continue;  // refresh and retry once
    }
    if (errcode == 0) {
      // WeCom lower-cases the ids it lists; a message to several members may reach some of them.
      const auto invalid = InvalidRecipients(answer.value("invaliduser", ""), recipient);
      if (!invalid.empty() && invalid.size() == CountRecipients(recipient)) {
        co_return Record(store::AttemptOutcome::kFailed, "", "invaliduser " + Join(invalid));
      }
      store::AttemptRecord sent = Record(store::AttemptOutcome::kSent, answer.value("msgid", ""), "");
      if (!invalid.empty()) sent.error = "invaliduser " + Join(invalid);
      co_return sent;
    }
    // 81013: every recipient is invalid (spec §4.3).
    if (errcode == 81013) co_return Record(store::AttemptOutcome::kFailed, "", "invaliduser " + std::string(recipient));
    if (RateLimited(errcode) || errcode == -1) co_return Record(store::AttemptOutcome::kRetryable, "", errmsg);
    co_return Record(store::AttemptOutcome::kFailed, "", errmsg);
  }
  co_return Record(store::AttemptOutcome::kRetryable, "", "access token rejected twice");
}

net::awaitable<LookupResult> Sender::Lookup(const store::OutboxMessage&) {
  // WeCom offers no way to ask whether an app message was accepted: stay unknown, never resend.
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::wecom
