#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (issue 10) on their committed corpora.
#   scripts/fuzz.sh [--seconds N] [--build DIR] [TARGET...]
# Without --build the targets are built first (clang, ASan+UBSan) in build-fuzz/. Each target
# runs N seconds (default 60, the documented long run; the test command runs 10 per target).
# New interesting inputs go to DIR/work/<target>, never into the committed corpus; a crash is
# written to DIR/artifacts/ and the script fails: add the input to tests/fuzz/corpus/<target>/
# as regression-<what> and a unit test for the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
build=""
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ -z "$build" ]]; then
  build=build-fuzz
  cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build"
fi
if ((${#targets[@]} == 0)); then
  for f in "$build"/fuzz_*; do targets+=("$(basename "$f" | sed 's/^fuzz_//')"); done
fi
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$build/work/$t"
  if ! "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" "$build/work/$t" "tests/fuzz/corpus/$t" >"$build/work/$t.log" 2>&1; then
    echo "fuzz $t: FAILED (see $build/work/$t.log and $build/artifacts/)"
    grep -E "ERROR|runtime error|SUMMARY" "$build/work/$t.log" | head -5
    status=1
  else
    echo "fuzz $t: $(grep -E '^stat::number_of_executed_units' "$build/work/$t.log" | awk '{print $2}') runs in ${seconds}s, no finding"
  fi
done
exit $status
