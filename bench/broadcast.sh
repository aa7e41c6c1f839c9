#!/usr/bin/env bash
# Broadcasts at national scale (issue 9):
# 1. planning: N people (default 1,000,000) in a fresh store, one broadcast to all — the audience
#    taken and every message planned into the outbox (bench/broadcast_bench.cpp); time and peak
#    resident memory. Goals: <= 10 s and <= 500 MB.
# 2. dispatch: M of a broadcast's messages (default 100,000) through the outbox to the loopback
#    fake Tencent API, next to the same M sends made directly with the provider in the same run
#    (bench/sms_dispatch.sh --broadcast). Goal: >= 0.8 of the fake's own rate.
#
#   bench/broadcast.sh [--people N] [--messages M] [--concurrency C]
set -euo pipefail
cd "$(dirname "$0")/.."

people=1000000
messages=100000
concurrency=0  # the gateway's default (dispatcher.concurrency)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --people) people="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    *) echo "usage: bench/broadcast.sh [--people N] [--messages M] [--concurrency C]" >&2; exit 2 ;;
  esac
done

cmake --preset release >/dev/null
cmake --build --preset release --target broadcast_bench >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== planning: a broadcast to $people people"
build-release/bench/broadcast_bench "$people" "$work/plan.db"
rm -f "$work"/plan.db*
echo "== dispatch: $messages messages of a broadcast by SMS"
bench/sms_dispatch.sh --messages "$messages" --concurrency "$concurrency" --broadcast
