#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/connection.hpp"

namespace duijie::store {

/// Addresses a channel must not send to: an SMS opt-out (TD), a number the provider blacklisted.
/// Kept by address, so an opt-out holds before anyone knows whose number it is.
class Suppressions {
 public:
  /// Records the suppression; false if the address was suppressed already (nothing changes).
  static bool Add(Connection& conn, std::string_view channel, std::string_view address, std::string_view reason,
                  std::string_view source, std::int64_t now_ms);
  /// Lifts a suppression of `reason` (e.g. an opt-out the person takes back); one for another
  /// reason (a carrier's blacklist) stays. False if there was none to lift.
  static bool Remove(Connection& conn, std::string_view channel, std::string_view address, std::string_view reason);
  /// The reason, if `address` is suppressed on `channel`.
  static std::optional<std::string> Find(Connection& conn, std::string_view channel, std::string_view address);
};

/// The secret called `name` kept in the database, made from `candidate` the first time.
[[nodiscard]] std::string LocalSecret(Connection& conn, std::string_view name, std::string_view candidate,
                                      std::int64_t now_ms);

}  // namespace duijie::store
