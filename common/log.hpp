#pragma once
#include <atomic>
#include <mutex>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"

namespace duijie {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError, kOff };

/// Parses "debug", "info", "warn", "error", "off"; false for anything else.
bool ParseLogLevel(std::string_view text, LogLevel& out);

/// Structured logging: one JSON object per line, written with a single write(2) so lines from
/// several threads never interleave. Every string value is passed through RedactText and every
/// field whose name marks a secret is replaced, so no caller can leak a phone, email or secret.
class Logger {
 public:
  /// Writes to the file descriptor `fd` (2 = stderr). `clock` must outlive the logger.
  Logger(const Clock& clock, LogLevel level, int fd = 2);

  void SetLevel(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  [[nodiscard]] bool Enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }

  void Log(LogLevel level, std::string_view msg, nlohmann::json fields = nlohmann::json::object()) const;
  void Debug(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) const {
    Log(LogLevel::kDebug, msg, std::move(fields));
  }
  void Info(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) const {
    Log(LogLevel::kInfo, msg, std::move(fields));
  }
  void Warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) const {
    Log(LogLevel::kWarn, msg, std::move(fields));
  }
  void Error(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) const {
    Log(LogLevel::kError, msg, std::move(fields));
  }

  /// The line Log() would write, without the trailing newline; exposed for tests.
  [[nodiscard]] std::string Format(LogLevel level, std::string_view msg, nlohmann::json fields) const;

 private:
  const Clock& clock_;
  std::atomic<LogLevel> level_;
  int fd_;
};

}  // namespace duijie
