#pragma once
#include <cstdint>

#include "channels/sender.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::channels::sms {

/// The rules of Chinese SMS that duijie keeps itself (spec §5.2-5.3).
struct PolicySettings {
  int quiet_start_minute = 21 * 60;  // Asia/Shanghai; quiet from 21:00 ...
  int quiet_end_minute = 8 * 60;     // ... to 08:00; equal start and end = no quiet hours
  int per_hour = 1;                  // pushes, reminders, results to one number; 0 = no cap
  int per_day = 3;                   // in any 24 hours
  int codes_per_hour = 5;            // verification codes, capped on their own
  int codes_per_day = 10;
};

/// Outbox kinds that answer what the person just wrote or asked for: never held for quiet hours
/// or the push caps (verification codes have caps of their own).
[[nodiscard]] bool IsConversational(std::string_view kind);

/// Decides whether SMS `msg` may go now: refused when its number opted out or is blacklisted
/// (the opt-out confirmation itself excepted); pushes and reminders deferred to the end of quiet
/// hours and until the per-number caps have room; verification codes held to their own caps.
[[nodiscard]] GateDecision CheckSms(store::Connection& conn, const store::OutboxMessage& msg, std::int64_t now_ms,
                                    const PolicySettings& settings);

/// Minutes past midnight in Beijing (UTC+8, no daylight saving) at `unix_ms`.
[[nodiscard]] int BeijingMinuteOfDay(std::int64_t unix_ms);

}  // namespace duijie::channels::sms
