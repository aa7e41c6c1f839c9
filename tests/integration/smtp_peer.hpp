#pragma once
// The real SMTP server of the email tests (tests/peers/smtp_peer.js: smtp-server with STARTTLS
// and AUTH, mailparser on everything it accepts), with a certificate made for the run.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace duijie::test {

class SmtpPeer {
 public:
  static constexpr const char* kUser = "duijie";
  static constexpr const char* kPassword = "smtp-test-password";

  SmtpPeer() {
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
        "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        dir_.File("key.pem") + " -out " + dir_.File("cert.pem") + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
    process_ = std::make_unique<ChildProcess>(
        DUIJIE_NODE, std::vector<std::string>{std::string(DUIJIE_PEERS_DIR) + "/smtp_peer.js"},
        std::map<std::string, std::string>{{"SMTP_KEY", dir_.File("key.pem")}, {"SMTP_CERT", dir_.File("cert.pem")}},
        DUIJIE_PEERS_DIR);
    std::istringstream line(process_->WaitForLine("listening", std::chrono::seconds(20)));
    std::string word;
    line >> word >> starttls_port_ >> plain_port_ >> http_port_ >> implicit_port_;
  }

  [[nodiscard]] std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(starttls_port_); }
  /// A server that does not offer STARTTLS.
  [[nodiscard]] std::string PlainUrl() const { return "smtp://127.0.0.1:" + std::to_string(plain_port_); }
  /// Implicit TLS from the first byte, as on port 465.
  [[nodiscard]] std::string ImplicitTlsUrl() const { return "smtps://127.0.0.1:" + std::to_string(implicit_port_); }
  [[nodiscard]] std::string CaFile() const { return dir_.File("cert.pem"); }

  /// Every message accepted so far, once there are at least `count` (or after 8 s).
  [[nodiscard]] nlohmann::json Mail(std::size_t count) const { return Json("/_mail?count=" + std::to_string(count)); }
  [[nodiscard]] nlohmann::json Stats() const { return Json("/_stats"); }
  [[nodiscard]] nlohmann::json WaitClosed(int count) const {
    return Json("/_wait_closed?count=" + std::to_string(count));
  }
  [[nodiscard]] nlohmann::json WaitAuthFailures(int count) const {
    return Json("/_wait_auth_failures?count=" + std::to_string(count));
  }

 private:
  [[nodiscard]] nlohmann::json Json(const std::string& target) const {
    return nlohmann::json::parse(Get(static_cast<std::uint16_t>(http_port_), target).body());
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
  int starttls_port_ = 0;
  int plain_port_ = 0;
  int http_port_ = 0;
  int implicit_port_ = 0;
};

}  // namespace duijie::test
