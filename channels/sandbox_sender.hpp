#pragma once
#include "channels/sender.hpp"
#include "common/clock.hpp"
#include "store/writer.hpp"

namespace duijie::channels {

/// The sender for every channel without credentials: records the message in `sandbox_messages`
/// and reports it as 'sandbox'; nothing leaves the machine. Its record is written in its own
/// transaction, before the dispatcher records the outcome, exactly like a provider that accepted
/// a message whose answer was then lost, so crash recovery is exercised for real.
class SandboxSender final : public Sender {
 public:
  SandboxSender(store::Writer& writer, const Clock& clock) : writer_(writer), clock_(clock) {}

  [[nodiscard]] std::string_view Name() const override { return "sandbox"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  store::Writer& writer_;
  const Clock& clock_;
};

}  // namespace duijie::channels
