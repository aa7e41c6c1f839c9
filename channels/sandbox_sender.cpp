#include "channels/sandbox_sender.hpp"

#include "store/sandbox_repository.hpp"

namespace duijie::channels {

net::awaitable<store::AttemptRecord> SandboxSender::Send(const store::OutboxMessage& msg) {
  const std::int64_t now = ToUnixMillis(clock_.Now());
  const auto record = [&msg, now](store::Connection& c) {
    return store::SandboxRepository::Record(c, msg.idempotency_key, msg.channel, msg.recipient, msg.payload, now);
  };
  const std::int64_t id = co_await writer_.Run(record);
  co_return store::AttemptRecord{store::AttemptOutcome::kSandbox, std::string(Name()), "sandbox-" + std::to_string(id),
                                 ""};
}

net::awaitable<LookupResult> SandboxSender::Lookup(const store::OutboxMessage& msg) {
  const auto find = [&msg](store::Connection& c) {
    return store::SandboxRepository::Find(c, msg.idempotency_key).value_or(0);
  };
  const auto found = co_await writer_.Run(find);
  if (found == 0) co_return LookupResult{store::Recovery::kWasLost, ""};
  co_return LookupResult{store::Recovery::kWasSent, "sandbox-" + std::to_string(found), "sandbox"};
}

}  // namespace duijie::channels
