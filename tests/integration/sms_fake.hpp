#pragma once
#include <fstream>
// The loopback fake SMS providers (tests/peers/sms_fake.js) as the integration tests use them.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace duijie::test {

/// A templates file with approved ids for the kinds the end-to-end tests send by SMS: the
/// verification code, the match push, and the free-text reply every other message uses.
inline std::string WriteSmsTemplates(const std::string& path) {
  std::ofstream(path) << R"({
    "verification_code": {"type": "verification", "urgent": true, "params": ["code"],
                          "text": "您的验证码为{code}，5分钟内有效，请勿告诉他人。", "tencent": "1002", "aliyun": "SMS_1002"},
    "match_push": {"params": ["title", "enterprise", "amount", "why", "code"],
                   "text": "新技术需求：{title}（{enterprise}，{amount}万元）。{why}。回复1有意向，回复2不考虑，回复TD退订。{code}",
                   "tencent": "1003", "aliyun": "SMS_1003"},
    "reply": {"params": ["text"], "text": "{text}", "tencent": "1001", "aliyun": "SMS_1001"}
  })";
  return path;
}

class SmsFake {
 public:
  SmsFake()
      : process_(std::make_unique<ChildProcess>(
            DUIJIE_NODE, std::vector<std::string>{std::string(DUIJIE_PEERS_DIR) + "/sms_fake.js"},
            std::map<std::string, std::string>{}, DUIJIE_PEERS_DIR)) {
    const std::string line = process_->WaitForLine("listening", std::chrono::seconds(20));
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.find(' ') + 1)));
  }

  [[nodiscard]] std::uint16_t Port() const { return port_; }

  /// The gateway's environment for sending by SMS through this fake's Tencent API, replies
  /// accepted at /sms/tencent/<callback_secret>/..., templates from `templates_file`; more
  /// variables on top.
  [[nodiscard]] std::map<std::string, std::string> TencentGateway(const std::string& db,
                                                                  const std::string& callback_secret,
                                                                  const std::string& templates_file,
                                                                  std::map<std::string, std::string> more = {}) const {
    std::map<std::string, std::string> env = {{"DUIJIE_HTTP_LISTEN", "127.0.0.1:0"},
                                              {"DUIJIE_STORE_PATH", db},
                                              {"DUIJIE_SMS_QUIET_HOURS", ""},
                                              {"DUIJIE_SMS_PROVIDER", "tencent"},
                                              {"DUIJIE_SMS_SIGN_NAME", "科技服务"},
                                              {"DUIJIE_SMS_TENCENT_SECRET_ID", "AKIDfake"},
                                              {"DUIJIE_SMS_TENCENT_SECRET_KEY", "tencent-fake-secret"},
                                              {"DUIJIE_SMS_TENCENT_SDK_APP_ID", "1400006666"},
                                              {"DUIJIE_SMS_TENCENT_ENDPOINT", Base() + "/tencent"},
                                              {"DUIJIE_SMS_CALLBACK_SECRET", callback_secret},
                                              {"DUIJIE_SMS_TEMPLATES_FILE", templates_file}};
    for (auto& [k, v] : more) env[k] = std::move(v);
    return env;
  }

  /// A reply SMS from `mobile` (11 digits) as Tencent's reply callback posts it to the gateway.
  static std::optional<HttpResponse> TencentReply(std::uint16_t gateway_port, const std::string& callback_secret,
                                                  const std::string& mobile, const std::string& text,
                                                  const std::string& extend = "") {
    const nlohmann::json reply = {{"extend", extend},   {"mobile", mobile}, {"nationcode", "86"},
                                  {"sign", "科技服务"}, {"text", text},     {"time", 1795305600}};
    HttpConnection c(gateway_port, std::chrono::seconds(20));
    const std::string body = reply.dump();
    c.SendRaw("POST /sms/tencent/" + callback_secret +
              "/reply HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    return c.ReadResponse();
  }
  [[nodiscard]] std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// What the fakes accepted ("sent") and refused for a bad signature ("refused").
  [[nodiscard]] nlohmann::json Seen() const { return nlohmann::json::parse(Get(port_, "/_sent").body()); }
  /// The same, once at least `count` requests reached the fakes (or after 15 s).
  [[nodiscard]] nlohmann::json WaitSent(std::size_t count) const {
    return nlohmann::json::parse(Get(port_, "/_wait?count=" + std::to_string(count)).body());
  }
  /// Switches faults per provider, e.g. {"tencent": "limit"}; "ok" switches them off.
  void Mode(const nlohmann::json& modes) const { Post("/_mode", modes.dump()); }
  /// X-Twilio-Signature for `url` and `params`, made by the twilio package's own helper.
  [[nodiscard]] std::string TwilioSignature(const std::string& token, const std::string& url,
                                            const nlohmann::json& params) const {
    const auto body = nlohmann::json{{"token", token}, {"url", url}, {"params", params}}.dump();
    return nlohmann::json::parse(Post("/_twilio_sign", body))["signature"].get<std::string>();
  }

 private:
  std::string Post(const std::string& target, const std::string& body) const {
    HttpConnection c(port_);
    c.SendRaw("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    auto r = c.ReadResponse();
    if (!r) throw std::runtime_error("the SMS fake did not answer " + target);
    return r->body();
  }

  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace duijie::test
