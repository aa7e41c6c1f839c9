#pragma once
#include <string>

#include "channels/sender.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/templates.hpp"
#include "common/clock.hpp"

namespace duijie::channels::sms {

/// Which provider sends to which numbers: mainland numbers through `primary` with failover to
/// `secondary` when the primary's failure was retryable (never after an unknown outcome: the
/// first may have sent it); other numbers through `international`. Any may be null.
struct Routes {
  Provider* primary = nullptr;
  Provider* secondary = nullptr;
  Provider* international = nullptr;
};

/// The outbox's "sms" channel: renders the message's template (template_id and params of the
/// neutral message; a plain text goes through the "reply" template), picks the provider by
/// number and sends, with Reference(outbox id) for lookups and receipts.
class SmsSender final : public channels::Sender {
 public:
  /// `extend_digits` > 0: mainland sends carry store::ExtendCode(outbox id) (sms.extend_code_digits).
  SmsSender(const Templates& templates, std::string sign_name, Routes routes, const Clock& clock, int extend_digits = 0)
      : templates_(templates),
        sign_name_(std::move(sign_name)),
        routes_(routes),
        clock_(clock),
        extend_digits_(extend_digits) {}

  [[nodiscard]] std::string_view Name() const override { return "sms"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  // The message's template filled in: what Send sends and Lookup looks for.
  [[nodiscard]] Result<Rendered> Render(const store::OutboxMessage& msg) const;

  const Templates& templates_;
  std::string sign_name_;
  Routes routes_;
  const Clock& clock_;
  int extend_digits_;
};

}  // namespace duijie::channels::sms
