#include "channels/wecom/robot_sender.hpp"

#include <nlohmann/json.hpp>

#include "channels/wecom/render.hpp"
#include "dialogs/message.hpp"

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

store::AttemptRecord RobotRecord(store::AttemptOutcome outcome, std::string error) {
  return {outcome, "wecom_robot", "", std::move(error)};
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
  for (const auto& body : *bodies) {
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
                            res.error().message);
    }
    if (res->status >= 500)
      co_return RobotRecord(store::AttemptOutcome::kRetryable, "HTTP " + std::to_string(res->status));
    const json answer = json::parse(res->body, nullptr, false);
    if (!answer.is_object()) {
      co_return RobotRecord(store::AttemptOutcome::kUnknown, "unreadable answer, HTTP " + std::to_string(res->status));
    }
    const int errcode = answer.value("errcode", -1);
    if (errcode == 0) continue;
    const std::string error = "errcode " + std::to_string(errcode) + " " + answer.value("errmsg", "");
    // 45009 and 130101 are the robot's rate limits; -1 is "system busy".
    if (errcode == 45009 || errcode == 130101 || errcode == -1) {
      co_return RobotRecord(store::AttemptOutcome::kRetryable, error);
    }
    co_return RobotRecord(store::AttemptOutcome::kFailed, error);  // 93000 bad key, 40008 bad type, ...
  }
  co_return RobotRecord(store::AttemptOutcome::kSent, "");
}

net::awaitable<LookupResult> RobotSender::Lookup(const store::OutboxMessage&) {
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::wecom
