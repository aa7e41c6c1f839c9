#!/usr/bin/env bash
# The soak (issue 10): a mixed load with provider faults and two SIGKILLs, then the ledger audit.
# See bench/soak/soak.js for what runs; the summary is printed and kept in the work directory.
#
#   bench/soak/run.sh [--minutes N] [--rate R] [--keep]
#
# --minutes: length of the load (default 10); --rate: scales every load generator (default 1:
# about 48 webhooks and reads a second); --keep: keep the work directory (database, logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

minutes=10
rate=1
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: bench/soak/run.sh [--minutes N] [--rate R] [--keep]" >&2; exit 2 ;;
  esac
done

build_duijie
work=$(mktemp -d)
if [[ $keep == 1 ]]; then echo "work directory: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
node bench/soak/soak.js --bin "$bin" --work "$work" --minutes "$minutes" --rate "$rate"
