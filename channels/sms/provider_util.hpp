#pragma once
// Shared by the provider implementations; not part of the channel's interface.
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::channels::sms::detail {

[[nodiscard]] store::AttemptRecord Outcome(std::string_view provider, store::AttemptOutcome outcome, std::string error,
                                           std::string ref = {});
/// A transport error: unsent (retryable) or unknown (timeout after the request left).
[[nodiscard]] store::AttemptRecord TransportFailure(std::string_view provider, const Error& e);
/// A 5xx answer: retryable, or unknown for a gateway timeout; nullopt below 500.
[[nodiscard]] std::optional<store::AttemptRecord> HttpFailure(std::string_view provider, int status);

}  // namespace duijie::channels::sms::detail
