#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace duijie::test {

/// The built `duijie` binary, started as a child process for integration tests. Its stderr (the
/// JSON log) is read line by line on a thread so a test can wait for an event instead of
/// sleeping; its stdout is collected.
class ChildProcess {
 public:
  /// `args` excludes argv[0]. The child gets this process's environment without any DUIJIE_*
  /// variable, plus `env`.
  /// `input`, when given, is written to the child's stdin (then closed); otherwise stdin is /dev/null.
  ChildProcess(const std::string& binary, std::vector<std::string> args, std::map<std::string, std::string> env,
               const std::string& cwd = "", std::optional<std::string> input = std::nullopt);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Waits until `count` stderr lines contain `needle`; returns the last such line. Throws
  /// std::runtime_error with the log so far on timeout or when the process exits first.
  std::string WaitForLine(std::string_view needle, std::chrono::milliseconds timeout, std::size_t count = 1);
  [[nodiscard]] std::size_t CountLines(std::string_view needle);
  [[nodiscard]] std::vector<std::string> Lines();
  [[nodiscard]] std::string Stdout();

  /// Waits until the child closed stdout and stderr (all output read).
  void WaitForEof(std::chrono::milliseconds timeout);

  void Signal(int signo) const;
  /// Exit code, or 128 + signal number when killed; nullopt if still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  /// Port from the "listening" log line.
  std::uint16_t WaitForPort(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  void ReadStderr(int fd);
  void ReadStdout(int fd);

  pid_t pid_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::string stdout_;
  std::optional<int> exit_code_;
  bool stderr_closed_ = false;
  bool stdout_closed_ = false;
  std::thread stderr_thread_;
  std::thread stdout_thread_;
  std::thread wait_thread_;
  std::thread stdin_thread_;
};

/// Runs the binary to completion (for CLI tests); returns exit code, stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::string& binary, std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}, const std::string& cwd = "",
                         std::optional<std::string> input = std::nullopt);

}  // namespace duijie::test
