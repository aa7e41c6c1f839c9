#pragma once
#include <cstddef>

#include "bot/config.hpp"
#include "common/log.hpp"

namespace duijie::bot {

/// Provider calls the gateway's HTTP client runs at once (see App::Run).
inline constexpr std::size_t kProviderTransfers = 32;

/// The composition root: the only place that knows every component. Builds the store, the
/// channels' senders, the dispatcher and the HTTP server from the config, runs them until
/// SIGTERM/SIGINT, then shuts down in order: stop accepting, finish in-flight requests, let the
/// dispatcher record what it sent, flush the writer.
class App {
 public:
  App(Config config, Logger& log) : config_(std::move(config)), log_(log) {}
  /// Runs until a stop signal; returns the process exit code.
  int Run();

 private:
  Config config_;
  Logger& log_;
};

/// `duijie migrate`: applies pending migrations and reports the versions; exit code.
int RunMigrate(const Config& config, Logger& log);

}  // namespace duijie::bot
