#!/usr/bin/env bash
# Installs what duijie needs, and only what is missing, so running it again is cheap.
#   scripts/deps.sh          build and test dependencies (Debian packages, pinned npm test peers)
#   scripts/deps.sh --bench  also the benchmark peers (wrk, nginx)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libboost1.81-dev libboost-url1.81-dev libssl-dev libcurl4-openssl-dev libpugixml-dev nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev sqlite3
          libjemalloc-dev libcli11-dev libopencc-dev libxlsxwriter-dev libcsv-dev pkg-config openssl libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-tidy clang libclang-rt-14-dev nodejs npm)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # A tool installed some other way (e.g. node from the machine image) counts as present.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Test peers from npm, exactly as pinned in the lock file; reinstalled only when the lock changes.
peers=tests/peers
if [[ -f "$peers/package-lock.json" ]]; then
  want=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
  have=$(cat "$peers/node_modules/.duijie-lock-sha256" 2>/dev/null || true)
  if [[ "$want" != "$have" ]]; then
    echo "deps: installing npm test peers"
    (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" >"$peers/node_modules/.duijie-lock-sha256"
  fi
fi
