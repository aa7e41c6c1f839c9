#pragma once
#include <iosfwd>

#include "bot/config.hpp"

namespace duijie::bot {

/// The `duijie` command line. Exit codes: 0 success, 1 runtime or configuration failure,
/// 2 usage error (unknown command or flag, bad value).
int RunCli(int argc, const char* const* argv, const Environment& env);

}  // namespace duijie::bot
