#include "channels/sms/policy.hpp"

#include <algorithm>
#include <array>

#include "store/suppressions.hpp"

namespace duijie::channels::sms {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kBeijingOffsetMillis = 8 * kHour;

const std::vector<std::string> kCodeKinds = {"verification_code"};
const std::vector<std::string> kUncapped = {"verification_code", "reply", "opt_out_confirmation"};
// A detail talk (what one side wrote to the other, and the talk's own notices): people talking,
// never capped like the platform's notices (nor counted against them), but not sent at night.
const std::vector<std::string> kNotCounted = {"verification_code", "reply", "opt_out_confirmation", "relay"};

bool InQuietHours(int minute, const PolicySettings& s) {
  if (s.quiet_start_minute == s.quiet_end_minute) return false;
  if (s.quiet_start_minute < s.quiet_end_minute) return minute >= s.quiet_start_minute && minute < s.quiet_end_minute;
  return minute >= s.quiet_start_minute || minute < s.quiet_end_minute;  // across midnight
}

// A cap of `limit` in a sliding `window` ending now, over the send times `times` (oldest first,
// covering at least the window): when enough have left the window for one more, or 0.
std::int64_t CapWait(const std::vector<std::int64_t>& times, std::int64_t now_ms, int limit, std::int64_t window) {
  if (limit <= 0) return 0;
  const auto first = std::upper_bound(times.begin(), times.end(), now_ms - window);
  const auto in_window = static_cast<std::size_t>(times.end() - first);
  const auto n = static_cast<std::size_t>(limit);
  return in_window >= n ? *(times.end() - static_cast<std::ptrdiff_t>(n)) + window : 0;
}

// The hourly and daily caps from one read of the day's sends.
std::int64_t CapsWait(store::Connection& conn, const store::OutboxMessage& msg, std::int64_t now_ms, int per_hour,
                      int per_day, const std::vector<std::string>& kinds, bool only_kinds) {
  if (per_hour <= 0 && per_day <= 0) return 0;
  const auto times = store::OutboxRepository::SentTimes(conn, msg.channel, msg.recipient, now_ms - kDay, now_ms, msg.id,
                                                        kinds, only_kinds);
  return std::max(CapWait(times, now_ms, per_hour, kHour), CapWait(times, now_ms, per_day, kDay));
}

}  // namespace

bool IsConversational(std::string_view kind) {
  return std::find(kUncapped.begin(), kUncapped.end(), kind) != kUncapped.end();
}

int BeijingMinuteOfDay(std::int64_t unix_ms) {
  const std::int64_t local = unix_ms + kBeijingOffsetMillis;
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
    const std::int64_t wait =
        CapsWait(conn, msg, now_ms, settings.codes_per_hour, settings.codes_per_day, kCodeKinds, true);
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
  if (msg.kind == "relay") return {};
  const std::int64_t wait = CapsWait(conn, msg, now_ms, settings.per_hour, settings.per_day, kNotCounted, false);
  if (wait > now_ms) return {GateDecision::Kind::kDefer, wait, "per-number cap"};
  return {};
}

}  // namespace duijie::channels::sms
