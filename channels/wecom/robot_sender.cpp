#include "channels/wecom/robot_sender.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

#include <nlohmann/json.hpp>

#include "channels/wecom/render.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

store::AttemptRecord RobotRecord(store::AttemptOutcome outcome, std::string error, std::string progress = "") {
  return {outcome, "wecom_robot", std::move(progress), std::move(error)};
}

// A robot has no duplicate check (app messages do): a message in parts keeps how many of them went
// out as its provider reference ("parts:2"), which the outbox keeps across attempts, and a retry
// starts after them.
constexpr std::string_view kPartsDone = "parts:";

std::string PartsRef(std::size_t done) { return std::string(kPartsDone) + std::to_string(done); }

std::size_t PartsDone(const std::optional<std::string>& ref) {
  if (!ref || !ref->starts_with(kPartsDone)) return 0;
  std::size_t done = 0;
  const auto digits = std::string_view(*ref).substr(kPartsDone.size());
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), done);
  return ec == std::errc{} && end == digits.data() + digits.size() ? done : 0;
}

}  // namespace

net::awaitable<store::AttemptRecord> RobotSender::Send(const store::OutboxMessage& msg) {
  const auto key = settings_.keys.find(msg.recipient);
  if (key == settings_.keys.end()) {
    co_return RobotRecord(store::AttemptOutcome::kFailed,
                          "no group robot named \"" + msg.recipient + "\" in wecom_robot.keys");
  }
  dialogs::OutboundMessage out;
  try {
    out = json::parse(msg.payload).get<dialogs::OutboundMessage>();
  } catch (const std::exception& e) {
    co_return RobotRecord(store::AttemptOutcome::kFailed, std::string("payload is not a message: ") + e.what());
  }
  auto bodies = RenderRobotMessage(out);
  if (!bodies) co_return RobotRecord(store::AttemptOutcome::kFailed, bodies.error().message);
  const std::size_t parts = bodies->size();
  for (std::size_t part = std::min(PartsDone(msg.provider_ref), parts); part < parts; ++part) {
    const json& body = (*bodies)[part];
    // What went out before this part, for the next attempt (nothing to keep for one part).
    const std::string progress = part > 0 ? PartsRef(part) : "";
    ClientRequest req;
    req.method = "POST";
    req.url = settings_.api_base + "/cgi-bin/webhook/send?key=" + key->second;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
    req.timeout = settings_.timeout;
    auto res = co_await http_.Send(req);
    if (!res) {
      const bool unsent = res.error().code == Errc::kUnavailable || res.error().code == Errc::kInvalidArgument;
      co_return RobotRecord(unsent ? store::AttemptOutcome::kRetryable : store::AttemptOutcome::kUnknown,
                            res.error().message, progress);
    }
    if (res->status >= 500)
      co_return RobotRecord(store::AttemptOutcome::kRetryable, "HTTP " + std::to_string(res->status), progress);
    const json answer = json::parse(res->body, nullptr, false);
    if (!answer.is_object()) {
      co_return RobotRecord(store::AttemptOutcome::kUnknown, "unreadable answer, HTTP " + std::to_string(res->status),
                            progress);
    }
    const int errcode = answer.value("errcode", -1);
    if (errcode == 0) continue;
    const std::string error = "errcode " + std::to_string(errcode) + " " + answer.value("errmsg", "");
    // 45009 and 130101 are the robot's rate limits; -1 is "system busy".
    if (errcode == 45009 || errcode == 130101 || errcode == -1) {
      co_return RobotRecord(store::AttemptOutcome::kRetryable, error, progress);
    }
    co_return RobotRecord(store::AttemptOutcome::kFailed, error, progress);  // 93000 bad key, 40008 bad type, ...
  }
  co_return RobotRecord(store::AttemptOutcome::kSent, "", parts > 1 ? PartsRef(parts) : "");
}

net::awaitable<LookupResult> RobotSender::Lookup(const store::OutboxMessage&) {
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::wecom
