// The configuration file (JSON with comments) and DUIJIE_* variables: whatever an operator writes
// is either a configuration or a list of problems, never a crash.
#include "bot/config.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = duijie::fuzz::Split(duijie::fuzz::Text(data, size), 3);
  duijie::bot::Environment env;
  if (!parts[1].empty()) env["DUIJIE_" + std::string(parts[1])] = std::string(parts[2]);
  (void)duijie::bot::ParseConfig(parts[0], "fuzz.json", env);
  (void)duijie::bot::ParseQuietHours(parts[2]);
  return 0;
}
