#!/usr/bin/env bash
# Quickstart, second command: install what is missing, build once, and run every test (unit,
# conversation, integration, lint, the fuzzers' short runs) in parallel, all under AddressSanitizer
# and UndefinedBehaviorSanitizer (any report fails the test); then the concurrency-heavy parts (the
# store writer, the dispatcher, the HTTP server) under ThreadSanitizer. CI runs exactly this
# (.ci/run). scripts/run.sh builds the optimised gateway in build/ on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan
cmake --preset tsan >/dev/null
cmake --build --preset tsan --target tsan_test
ctest --preset asan-ubsan -j "$(nproc)"
ctest --preset tsan -L tsan -j "$(nproc)"
