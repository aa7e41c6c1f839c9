#pragma once
#include <cstdint>
#include <ostream>
#include <string>

#include "bot/config.hpp"
#include "matcher/analyzer.hpp"

namespace duijie::bot {

struct MatchCommand {
  std::string side;  // "need" or "researcher"
  std::int64_t id = 0;
  int limit = 20;
  bool plan = false;  // mark whom the push plan would choose (needs only)
  bool json = false;
};

/// `duijie match need N` / `duijie match researcher R`: builds the matcher from the store and
/// prints the ranked list with scores and why, for staff and for tuning. Exit 0, 1 when the
/// need or researcher does not exist or the store cannot be read.
int RunMatch(const Config& config, const MatchCommand& command, std::ostream& out, std::ostream& err);

/// The analyzer as configured (OpenCC when matcher.opencc_config names a file that loads).
/// Throws std::runtime_error naming the file when it is configured but cannot be loaded.
[[nodiscard]] matcher::AnalyzerOptions AnalyzerFromConfig(const MatcherConfig& config);

}  // namespace duijie::bot
