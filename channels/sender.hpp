#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "common/asio.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::channels {

/// What a provider knows of a message whose attempt ended without a recorded outcome.
struct LookupResult {
  store::Recovery recovery = store::Recovery::kStillUnknown;
  std::string provider_ref;
  std::string sent_status = "sent";  // the status a message found sent ends in
};

/// What a channel's rules say about sending a claimed message now (SMS: opt-out, quiet hours,
/// per-number caps). Decided in the claim transaction, before anything leaves.
struct GateDecision {
  enum class Kind {
    kSend,
    kDefer,   // not now: pending again from `until_ms`, the claim undone
    kRefuse,  // never to this address: failed with `reason`, its fallback queued
  };
  Kind kind = Kind::kSend;
  std::int64_t until_ms = 0;
  std::string reason;
};

/// Sends outbox messages through one provider. Implementations never block the calling thread,
/// classify every failure (retryable, final, unknown) and never throw for a provider's answer.
class Sender {
 public:
  virtual ~Sender() = default;

  /// Short name recorded with each attempt, e.g. "sandbox", "tencent", "smtp".
  [[nodiscard]] virtual std::string_view Name() const = 0;

  /// One attempt at delivering `msg` to the provider.
  virtual net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) = 0;

  /// Asks the provider whether `msg` was accepted in an attempt whose outcome was lost (crash,
  /// timeout after the request left). Must not send anything.
  virtual net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) = 0;
};

}  // namespace duijie::channels
