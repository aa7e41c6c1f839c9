#include "channels/sms/policy.hpp"

#include <array>

#include "store/suppressions.hpp"

namespace duijie::channels::sms {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kBeijingOffset = 8 * kHour;

const std::vector<std::string> kCodeKinds = {"verification_code"};
const std::vector<std::string> kUncapped = {"verification_code", "reply", "opt_out_confirmation"};

bool InQuietHours(int minute, const PolicySettings& s) {
  if (s.quiet_start_minute == s.quiet_end_minute) return false;
  if (s.quiet_start_minute < s.quiet_end_minute) return minute >= s.quiet_start_minute && minute < s.quiet_end_minute;
  return minute >= s.quiet_start_minute || minute < s.quiet_end_minute;  // across midnight
}

// A cap of `limit` in a sliding `window`: when enough counted sends have left the window for one
// more, or 0 when there is room now.
std::int64_t CapWait(store::Connection& conn, const store::OutboxMessage& msg, std::int64_t now_ms, int limit,
                     std::int64_t window, const std::vector<std::string>& kinds, bool only_kinds) {
  if (limit <= 0) return 0;
  const auto times = store::OutboxRepository::SentTimes(conn, msg.channel, msg.recipient, now_ms - window, now_ms,
                                                        msg.id, kinds, only_kinds);
  const auto n = static_cast<std::size_t>(limit);
  return times.size() >= n ? times[times.size() - n] + window : 0;
}

}  // namespace

bool IsConversational(std::string_view kind) {
  return std::find(kUncapped.begin(), kUncapped.end(), kind) != kUncapped.end();
}

int BeijingMinuteOfDay(std::int64_t unix_ms) {
  const std::int64_t local = unix_ms + kBeijingOffset;
  return static_cast<int>(((local % kDay) + kDay) % kDay / kMinute);
}

GateDecision CheckSms(store::Connection& conn, const store::OutboxMessage& msg, std::int64_t now_ms,
                      const PolicySettings& settings) {
  if (msg.kind != "opt_out_confirmation") {
    if (auto reason = store::Suppressions::Find(conn, msg.channel, msg.recipient)) {
      return {GateDecision::Kind::kRefuse, 0, "SMS suppressed for this number: " + *reason};
    }
  }
  if (msg.kind == "verification_code") {
    const std::int64_t wait = std::max(CapWait(conn, msg, now_ms, settings.codes_per_hour, kHour, kCodeKinds, true),
                                       CapWait(conn, msg, now_ms, settings.codes_per_day, kDay, kCodeKinds, true));
    if (wait > now_ms) return {GateDecision::Kind::kDefer, wait, "verification code cap"};
    return {};
  }
  if (IsConversational(msg.kind)) return {};
  const int minute = BeijingMinuteOfDay(now_ms);
  if (InQuietHours(minute, settings)) {
    const int until = settings.quiet_end_minute;
    const std::int64_t minutes_left = ((until - minute) % (24 * 60) + 24 * 60) % (24 * 60);
    return {GateDecision::Kind::kDefer, now_ms - now_ms % kMinute + minutes_left * kMinute, "quiet hours"};
  }
  const std::int64_t wait = std::max(CapWait(conn, msg, now_ms, settings.per_hour, kHour, kUncapped, false),
                                     CapWait(conn, msg, now_ms, settings.per_day, kDay, kUncapped, false));
  if (wait > now_ms) return {GateDecision::Kind::kDefer, wait, "per-number cap"};
  return {};
}

}  // namespace duijie::channels::sms
