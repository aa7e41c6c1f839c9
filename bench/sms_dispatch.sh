#!/usr/bin/env bash
# SMS dispatch (issue 5): N pushes through the outbox (claim, SMS rules, render, TC3 signature,
# send, record) to the loopback fake Tencent API of tests/peers/sms_fake.js, which verifies every
# signature with Tencent's own SDK signer; against the same N sends made directly with the
# provider in the same run (the fake's own accept rate through our HTTP client). Prints both
# rates, the ratio (goal >= 0.8) and resident memory while the outbox drains.
#
#   bench/sms_dispatch.sh [--messages N] [--concurrency N] [--runs R] [--broadcast]
# --broadcast: the messages are one broadcast's to N people (planned before the clock starts).
# --runs: independent runs (default 3), each with a fresh fake and database; the summary is the
# median ratio, since on a shared 2-core machine one run can be off by 0.1 either way.
set -euo pipefail
cd "$(dirname "$0")/.."

messages=10000
concurrency=0  # the gateway's default (dispatcher.concurrency)
mode=""
runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --broadcast) mode=broadcast; shift ;;
    *) echo "usage: bench/sms_dispatch.sh [--messages N] [--concurrency N] [--runs R] [--broadcast]" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_duijie
cmake --build --preset release --target sms_dispatch_bench >/dev/null

work=$(mktemp -d)
fake_pid=""
cleanup() {
  [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ratios=()
for run in $(seq 1 "$runs"); do
  rm -f "$work"/bench.db* "$work/fake.log"
  (cd tests/peers && exec node sms_fake.js) 2>"$work/fake.log" &
  fake_pid=$!
  for _ in $(seq 1 200); do
    grep -q listening "$work/fake.log" 2>/dev/null && break
    sleep 0.05
  done
  fake_port=$(awk '/listening/ {print $2}' "$work/fake.log")
  echo "== run $run of $runs"
  build-release/bench/sms_dispatch_bench "$fake_port" "$messages" "$concurrency" "$work/bench.db" $mode | tee "$work/run.txt"
  ratios+=("$(awk '/^ratio/ {print $2}' "$work/run.txt")")
  kill "$fake_pid" 2>/dev/null || true
  wait "$fake_pid" 2>/dev/null || true
  fake_pid=""
done
echo "== ratios ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') (goal >= 0.8)"
