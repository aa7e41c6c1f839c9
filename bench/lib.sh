# Shared helpers for the process-level benchmarks (sourced, not run).

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# Waits (up to 10 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# Starts duijie in the background with the given extra environment (NAME=VALUE ...) on port 0;
# sets duijie_pid and duijie_port. The log goes to $work/duijie.log.
start_duijie() {
  env DUIJIE_HTTP_LISTEN=127.0.0.1:0 DUIJIE_STORE_PATH="$work/duijie.db" "$@" \
    "$bin" serve 2>"$work/duijie.log" &
  duijie_pid=$!
  for _ in $(seq 1 200); do
    grep -q '"msg":"listening"' "$work/duijie.log" 2>/dev/null && break
    sleep 0.05
  done
  duijie_port=$(grep -o '"address":"127.0.0.1:[0-9]*"' "$work/duijie.log" | head -1 | grep -o '[0-9]*"$' | tr -d '"')
}

# wrk -t1 -c$connections -d${duration}s [extra args] URL -> "requests_per_second p99 non2xx"
measure() {
  local out rps p99 bad
  out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency "$@")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  echo "$rps $p99 ${bad:-0}"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
