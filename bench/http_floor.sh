#!/usr/bin/env bash
# The HTTP floor (DESIGN.md §5): wrk against duijie's GET /healthz and, in the same run, against
# nginx answering a static `return 200` with the same body. Both run with their defaults on this
# machine (one worker per core, access log on and written to a file), measured in alternating
# rounds; the script prints each round, the medians and the ratio duijie/nginx.
#
#   bench/http_floor.sh [--duration SECONDS] [--connections N] [--rounds N] [--no-access-log]
#
# Loopback only. Needs the benchmark peers: scripts/deps.sh --bench (run here).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
connections=64
rounds=3
access=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --no-access-log) access=false; shift ;;
    *) echo "usage: bench/http_floor.sh [--duration S] [--connections N] [--rounds N] [--no-access-log]" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_duijie

work=$(mktemp -d)
duijie_pid=""
nginx_pid=""
cleanup() {
  [[ -n "$duijie_pid" ]] && kill "$duijie_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# duijie on port 0; the "listening" log line says which port it got.
start_duijie DUIJIE_LOG_ACCESS="$access"

nginx_log="$work/nginx-access.log"
[[ "$access" == false ]] && nginx_log="off"
start_nginx /healthz "$nginx_log" '{"status":"ok"}'

# Same check on both: the body is the same.
curl -fsS "http://127.0.0.1:$duijie_port/healthz" >/dev/null
curl -fsS "http://127.0.0.1:$nginx_port/healthz" >/dev/null

# Warm both up, then alternate so drift on the machine hits both alike.
wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$duijie_port/healthz" >/dev/null
wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$nginx_port/healthz" >/dev/null
d_rates=()
n_rates=()
echo "round  duijie_rps  duijie_p99  nginx_rps  nginx_p99"
for r in $(seq 1 "$rounds"); do
  read -r nr np _ <<<"$(measure "http://127.0.0.1:$nginx_port/healthz")"
  read -r dr dp _ <<<"$(measure "http://127.0.0.1:$duijie_port/healthz")"
  d_rates+=("$dr")
  n_rates+=("$nr")
  printf '%5d  %10.0f  %10s  %9.0f  %9s\n' "$r" "$dr" "$dp" "$nr" "$np"
done

d_med=$(median "${d_rates[@]}")
n_med=$(median "${n_rates[@]}")
ratio=$(awk -v d="$d_med" -v n="$n_med" 'BEGIN {printf "%.2f", d / n}')
echo
echo "machine: $(nproc) cores; wrk -t1 -c$connections -d${duration}s; access log: $access"
printf 'duijie /healthz: %.0f req/s (median of %d)\n' "$d_med" "$rounds"
printf 'nginx return 200: %.0f req/s (median of %d)\n' "$n_med" "$rounds"
echo "ratio duijie/nginx: $ratio (goal >= 0.70)"
