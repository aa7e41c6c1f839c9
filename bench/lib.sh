# Shared helpers for the process-level benchmarks (sourced, not run).

# Installs the benchmark peers if missing and builds the release binary; sets bin.
build_duijie() {
  scripts/deps.sh --bench
  cmake --preset release >/dev/null
  cmake --build --preset release --target duijie >/dev/null
  bin=build-release/bot/duijie
}

# Starts nginx (one worker per core) answering a static 200 with body $3 on location $1, access log
# to $2 ("off" for none); sets nginx_pid and nginx_port.
start_nginx() {
  nginx_port=$(free_port)
  cat >"$work/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $2;
  server {
    listen 127.0.0.1:$nginx_port;
    location = $1 { default_type application/json; return 200 '$3'; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  nginx_pid=$!
  wait_port "$nginx_port"
}

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
# sets duijie_pid and duijie_port. The log goes to $work/duijie.log. The load comes from one
# address (wrk on loopback), so the per-source webhook limit is off unless a bench sets it.
start_duijie() {
  env DUIJIE_HTTP_LISTEN=127.0.0.1:0 DUIJIE_STORE_PATH="$work/duijie.db" DUIJIE_HTTP_WEBHOOK_RATE_PER_SOURCE=0 "$@" \
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
