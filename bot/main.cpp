#include "bot/cli.hpp"

int main(int argc, char** argv) { return duijie::bot::RunCli(argc, argv, duijie::bot::ProcessEnvironment()); }
