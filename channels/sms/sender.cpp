#include "channels/sms/sender.hpp"

#include <nlohmann/json.hpp>

#include "channels/sms/provider_util.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::sms {
namespace {

using store::AttemptOutcome;

bool IsE164(std::string_view s) {
  return s.size() >= 8 && s.size() <= 16 && s[0] == '+' &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<Rendered> SmsSender::Render(const store::OutboxMessage& msg) const {
  dialogs::OutboundMessage out;
  try {
    out = nlohmann::json::parse(msg.payload).get<dialogs::OutboundMessage>();
  } catch (const std::exception& e) {
    return Error(Errc::kInvalidArgument, std::string("payload is not a message: ") + e.what());
  }
  const std::string kind = out.template_id.value_or("reply");
  const nlohmann::json params = out.template_id ? out.params : nlohmann::json{{"text", out.text}};
  return templates_.Render(kind, params, sign_name_);
}

net::awaitable<store::AttemptRecord> SmsSender::Send(const store::OutboxMessage& msg) {
  if (!IsE164(msg.recipient)) {
    co_return detail::Outcome("sms", AttemptOutcome::kFailed, "recipient is not an E.164 number");
  }
  auto rendered = Render(msg);
  if (!rendered) co_return detail::Outcome("sms", AttemptOutcome::kFailed, rendered.error().message);
  const bool mainland = IsMainlandMobile(msg.recipient);
  const SmsRequest req{msg.recipient, std::move(*rendered), Reference(msg.id),
                       mainland && extend_digits_ > 0 ? store::ExtendCode(msg.id, extend_digits_) : ""};

  Provider* first = mainland ? routes_.primary : routes_.international;
  if (first == nullptr) {
    co_return detail::Outcome("sms", AttemptOutcome::kFailed,
                              mainland ? "no SMS provider for mainland numbers (sms.provider)"
                                       : "no SMS provider for numbers outside mainland China (sms.twilio_*)");
  }
  auto record = co_await first->Send(req);
  if (record.outcome == AttemptOutcome::kRetryable && mainland && routes_.secondary != nullptr) {
    auto second = co_await routes_.secondary->Send(req);
    if (second.outcome != AttemptOutcome::kRetryable) co_return second;
    second.error = std::string(first->Name()) + ": " + record.error + "; " + second.error;
    co_return second;
  }
  co_return record;
}

net::awaitable<LookupResult> SmsSender::Lookup(const store::OutboxMessage& msg) {
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - FromUnixMillis(msg.updated_at));
  const std::string ref = Reference(msg.id);
  std::vector<Provider*> candidates;
  if (IsMainlandMobile(msg.recipient)) {
    candidates = {routes_.primary, routes_.secondary};
  } else {
    candidates = {routes_.international};
  }
  // The text as it was sent, for a provider that can only find a message by what it said.
  const auto rendered = Render(msg);
  const std::string text = rendered ? rendered->text : std::string();
  bool all_lost = true;
  bool any = false;
  for (Provider* p : candidates) {
    if (p == nullptr) continue;
    any = true;
    auto result = co_await p->Lookup(msg.recipient, ref, std::chrono::seconds(std::max<long>(0, age.count())), text);
    if (result.recovery == store::Recovery::kWasSent) co_return result;
    all_lost = all_lost && result.recovery == store::Recovery::kWasLost;
  }
  // Sent again only when every provider that may have taken it says it did not.
  co_return LookupResult{any && all_lost ? store::Recovery::kWasLost : store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::sms
