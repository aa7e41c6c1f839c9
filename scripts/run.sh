#!/usr/bin/env bash
# Quickstart, first command: install what is missing, build, and run the gateway on its embedded
# defaults (127.0.0.1:8080, ./duijie.db, every channel in sandbox mode). Extra arguments go to
# `duijie serve`, e.g. scripts/run.sh --config my.json. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target duijie
exec build/bot/duijie serve "$@"
