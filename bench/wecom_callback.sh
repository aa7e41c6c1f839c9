#!/usr/bin/env bash
# WeCom callbacks under load (issue 3): wrk POSTs a few thousand distinct callbacks, sealed and
# signed beforehand by the official @wecom/crypto, to
#   - duijie's /wecom/callback (verify, decrypt, parse, inbox row committed, encrypted reply),
#   - a Node server doing the same crypto with @wecom/crypto, one worker per core, storing nothing,
#   - nginx returning a static 200 (the HTTP floor),
# in alternating rounds of the same run; prints rates, p99 and the ratio duijie/Node.
#
#   bench/wecom_callback.sh [--duration S] [--connections N] [--rounds N] [--callbacks N]
#
# wrk cycles through the callbacks, so after the first pass duijie answers redeliveries from the
# inbox (a write transaction each: the delivery count) and Node simply repeats its work.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
connections=64
rounds=3
callbacks=5000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --callbacks) callbacks="$2"; shift 2 ;;
    *) echo "usage: bench/wecom_callback.sh [--duration S] [--connections N] [--rounds N] [--callbacks N]" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_duijie

# The official Python sample's callback settings (public test values).
token=hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo
key=6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt
corp=ww1436e0e65a779aee

work=$(mktemp -d)
duijie_pid=""
node_pid=""
nginx_pid=""
cleanup() {
  for p in "$duijie_pid" "$node_pid" "$nginx_pid"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  pkill -f "wecom_node_peer.js $node_port" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

node bench/wecom_gen.js "$callbacks" "$token" "$key" "$corp" >"$work/callbacks.lua"

start_duijie DUIJIE_WECOM_CORP_ID="$corp" DUIJIE_WECOM_TOKEN="$token" DUIJIE_WECOM_AES_KEY="$key"

node_port=$(free_port)
node bench/wecom_node_peer.js "$node_port" "$token" "$key" "$corp" &
node_pid=$!
wait_port "$node_port"

start_nginx /wecom/callback "$work/nginx-access.log" ''

lua="$work/callbacks.lua"
for target in "$duijie_port" "$node_port" "$nginx_port"; do
  wrk -t1 -c"$connections" -d2s -s "$lua" "http://127.0.0.1:$target" >/dev/null
done

d_rates=(); n_rates=(); f_rates=()
echo "round  duijie_rps  duijie_p99  node_rps  node_p99  nginx_rps  nginx_p99"
for r in $(seq 1 "$rounds"); do
  read -r dr dp dbad <<<"$(measure -s "$lua" "http://127.0.0.1:$duijie_port")"
  read -r nr np nbad <<<"$(measure -s "$lua" "http://127.0.0.1:$node_port")"
  read -r fr fp _ <<<"$(measure -s "$lua" "http://127.0.0.1:$nginx_port")"
  if [[ "$dbad" != 0 || "$nbad" != 0 ]]; then echo "non-2xx answers: duijie $dbad, node $nbad" >&2; exit 1; fi
  d_rates+=("$dr"); n_rates+=("$nr"); f_rates+=("$fr")
  printf '%5d  %10.0f  %10s  %8.0f  %8s  %9.0f  %9s\n' "$r" "$dr" "$dp" "$nr" "$np" "$fr" "$fp"
done

inbox=$(sqlite3 "$work/duijie.db" "SELECT count(*) || ' rows, ' || sum(deliveries) || ' deliveries' FROM inbox")
d_med=$(median "${d_rates[@]}"); n_med=$(median "${n_rates[@]}"); f_med=$(median "${f_rates[@]}")
echo
echo "machine: $(nproc) cores; wrk -t1 -c$connections -d${duration}s; $callbacks distinct callbacks"
printf 'duijie /wecom/callback: %.0f req/s (median of %d)\n' "$d_med" "$rounds"
printf 'node @wecom/crypto:     %.0f req/s\n' "$n_med"
printf 'nginx static 200:       %.0f req/s\n' "$f_med"
echo "duijie inbox: $inbox"
awk -v d="$d_med" -v n="$n_med" -v f="$f_med" \
  'BEGIN {printf "ratio duijie/node: %.2f (goal >= 3.0); duijie/nginx: %.2f\n", d / n, d / f}'
