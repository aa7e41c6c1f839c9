#include "common/log.hpp"

#include "common/mask.hpp"
#include <unistd.h>

namespace duijie {
namespace {

constexpr std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

void Scrub(nlohmann::json& value) {
  if (value.is_string()) {
    value = RedactText(value.get_ref<const std::string&>());
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (IsSecretFieldName(it.key()) && !it.value().is_null()) {
        it.value() = "[redacted]";
      } else {
        Scrub(it.value());
      }
    }
  } else if (value.is_array()) {
    for (auto& v : value) Scrub(v);
  }
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel& out) {
  for (auto level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (text == LevelName(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

Logger::Logger(const Clock& clock, LogLevel level, int fd) : clock_(clock), level_(level), fd_(fd) {}

std::string Logger::Format(LogLevel level, std::string_view msg, nlohmann::json fields) const {
  if (!fields.is_object()) fields = nlohmann::json{{"value", std::move(fields)}};
  Scrub(fields);
  // Ordered so every line starts with ts, level, msg: easier to read, same to parse.
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["ts"] = FormatUtc(clock_.Now());
  line["level"] = LevelName(level);
  line["msg"] = RedactText(msg);
  for (auto& [key, value] : fields.items()) line[key] = value;
  // Invalid UTF-8 from a peer must not make logging throw.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void Logger::Log(LogLevel level, std::string_view msg, nlohmann::json fields) const {
  if (!Enabled(level)) return;
  std::string text = Format(level, msg, std::move(fields));
  text.push_back('\n');
  // One write per line: atomic for pipes up to PIPE_BUF and for O_APPEND files in practice.
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n <= 0) return;  // logging must never take the service down
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace duijie
