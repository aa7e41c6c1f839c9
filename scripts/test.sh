#!/usr/bin/env bash
# Quickstart, second command: install what is missing, build everything once, and run every test
# (unit, conversation and integration) in parallel. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default -j "$(nproc)"
