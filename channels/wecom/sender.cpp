#include "channels/wecom/sender.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "channels/wecom/message.hpp"
#include "channels/wecom/render.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

store::AttemptRecord SendRecord(store::AttemptOutcome outcome, std::string ref, std::string error) {
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
  auto invalid = SplitPipe(listed);
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

net::awaitable<store::AttemptRecord> Sender::Send(const store::OutboxMessage& msg) {
  dialogs::OutboundMessage out;
  try {
    out = json::parse(msg.payload).get<dialogs::OutboundMessage>();
  } catch (const std::exception& e) {
    co_return SendRecord(store::AttemptOutcome::kFailed, "", std::string("payload is not a message: ") + e.what());
  }
  auto calls = RenderAppMessage(out, msg.recipient, std::atoll(api_.Settings().agent_id.c_str()));
  if (!calls) co_return SendRecord(store::AttemptOutcome::kFailed, "", calls.error().message);
  if (calls->size() > 1) {
    // A long text goes out in parts. WeCom drops an identical request inside the interval, so a
    // retry after part 2 failed does not deliver part 1 twice.
    for (auto& call : *calls) {
      call.body["enable_duplicate_check"] = 1;
      call.body["duplicate_check_interval"] = 4 * 3600;
    }
  }
  store::AttemptRecord sent = SendRecord(store::AttemptOutcome::kSent, "", "");
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
  auto result = co_await api_.PostJson(call.path, call.body);
  if (result.outcome == store::AttemptOutcome::kSent) {
    // WeCom lower-cases the ids it lists; a message to several members may reach some of them.
    const auto invalid = InvalidRecipients(result.answer.value("invaliduser", ""), recipient);
    if (!invalid.empty() && invalid.size() == CountRecipients(recipient)) {
      co_return SendRecord(store::AttemptOutcome::kFailed, "", "invaliduser " + Join(invalid));
    }
    store::AttemptRecord sent = SendRecord(store::AttemptOutcome::kSent, result.answer.value("msgid", ""), "");
    if (!invalid.empty()) sent.error = "invaliduser " + Join(invalid);
    co_return sent;
  }
  // 81013: every recipient is invalid (spec §4.3).
  if (result.errcode == 81013) co_return SendRecord(result.outcome, "", "invaliduser " + std::string(recipient));
  co_return SendRecord(result.outcome, "", std::move(result.error));
}

net::awaitable<LookupResult> Sender::Lookup(const store::OutboxMessage&) {
  // WeCom offers no way to ask whether an app message was accepted: stay unknown, never resend.
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::wecom
