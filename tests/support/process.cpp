#include "support/process.hpp"

#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace duijie::test {
namespace {

std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "DUIJIE_", 7) == 0) continue;
    env.emplace_back(*e);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& binary, std::vector<std::string> args,
                           std::map<std::string, std::string> env, const std::string& cwd,
                           std::optional<std::string> input) {
  int err_pipe[2];
  int out_pipe[2];
  int in_pipe[2] = {-1, -1};
  if (pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (input && pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_store;
  argv_store.push_back(binary);
  for (auto& a : args) argv_store.push_back(std::move(a));
  const auto env_store = ChildEnvironment(env);
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env_store) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(err_pipe[1], 2);
    dup2(out_pipe[1], 1);
    if (in_pipe[0] >= 0) {
      dup2(in_pipe[0], 0);
    } else {
      const int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, 0);
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(err_pipe[1]);
  close(out_pipe[1]);
  if (input) {
    close(in_pipe[0]);
    stdin_thread_ = std::thread([fd = in_pipe[1], data = std::move(*input)] {
      std::size_t done = 0;
      while (done < data.size()) {
        const ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
      close(fd);
    });
  }
  stderr_thread_ = std::thread([this, fd = err_pipe[0]] { ReadStderr(fd); });
  stdout_thread_ = std::thread([this, fd = out_pipe[0]] { ReadStdout(fd); });
  wait_thread_ = std::thread([this] {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    std::lock_guard lock(mu_);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    cv_.notify_all();
  });
}

ChildProcess::~ChildProcess() {
  {
    std::lock_guard lock(mu_);
    if (!exit_code_) kill(pid_, SIGKILL);
  }
  wait_thread_.join();
  if (stdin_thread_.joinable()) stdin_thread_.join();
  stderr_thread_.join();
  stdout_thread_.join();
}

void ChildProcess::ReadStderr(int fd) {
  std::string partial;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    std::lock_guard lock(mu_);
    while ((nl = partial.find('\n')) != std::string::npos) {
      lines_.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  if (!partial.empty()) lines_.push_back(partial);
  stderr_closed_ = true;
  cv_.notify_all();
}

void ChildProcess::ReadStdout(int fd) {
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    stdout_.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  std::lock_guard lock(mu_);
  stdout_closed_ = true;
  cv_.notify_all();
}

void ChildProcess::WaitForEof(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stderr_closed_ && stdout_closed_; });
}

std::string ChildProcess::WaitForLine(std::string_view needle, std::chrono::milliseconds timeout, std::size_t count) {
  std::unique_lock lock(mu_);
  std::string last;
  auto found = [&] {
    std::size_t seen = 0;
    for (const auto& l : lines_) {
      if (l.find(needle) != std::string::npos) {
        ++seen;
        last = l;
      }
    }
    return seen >= count;
  };
  const bool ok = cv_.wait_for(lock, timeout, [&] { return found() || stderr_closed_; });
  if (ok && found()) return last;
  std::string log;
  for (const auto& l : lines_) log += l + "\n";
  throw std::runtime_error("no log line with '" + std::string(needle) + "' (" +
                           (stderr_closed_ ? "process ended" : "timed out") + "); log so far:\n" + log);
}

std::size_t ChildProcess::CountLines(std::string_view needle) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& l : lines_) n += l.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

std::vector<std::string> ChildProcess::Lines() {
  std::lock_guard lock(mu_);
  return lines_;
}

std::string ChildProcess::Stdout() {
  std::lock_guard lock(mu_);
  return stdout_;
}

void ChildProcess::Signal(int signo) const { kill(pid_, signo); }

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return exit_code_.has_value(); });
  return exit_code_;
}

std::uint16_t ChildProcess::WaitForPort(std::chrono::milliseconds timeout) {
  const std::string line = WaitForLine("\"msg\":\"listening\"", timeout);
  const auto key = line.find("\"address\":\"");
  const auto end = line.find('"', key + 11);
  const std::string address = line.substr(key + 11, end - key - 11);
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

CommandResult RunCommand(const std::string& binary, std::vector<std::string> args,
                         std::map<std::string, std::string> env, const std::string& cwd,
                         std::optional<std::string> input) {
  ChildProcess child(binary, std::move(args), std::move(env), cwd, std::move(input));
  const auto code = child.Wait(std::chrono::seconds(60));
  if (!code) throw std::runtime_error("command did not finish in 60 s");
  CommandResult r;
  r.exit_code = *code;
  // The reader threads finish when the pipes close; the destructor joins them.
  child.WaitForEof(std::chrono::seconds(10));
  r.out = child.Stdout();
  for (const auto& l : child.Lines()) r.err += l + "\n";
  return r;
}

}  // namespace duijie::test
