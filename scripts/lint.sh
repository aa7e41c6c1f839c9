#!/usr/bin/env bash
# Formatting and static checks: clang-format (the one style) and clang-tidy (naming, bug-prone
# constructs), over our own sources only. Exits non-zero on the first finding.
#   scripts/lint.sh [BUILD_DIR]     BUILD_DIR holds compile_commands.json (default: build)
# In a unity build (the sanitizer presets) clang-tidy reads each generated unity file, which
# includes several of our .cpp files: Boost and the standard library are parsed and walked once per
# batch instead of once per file, which is most of clang-tidy's time. Diagnostics still name the
# .cpp file and line. Including a .cpp file is what a unity file does, so bugprone-suspicious-include
# is off for those runs (and on for sources checked alone). The configuration is named explicitly:
# clang-tidy looks for .clang-tidy beside the file it checks, and unity files live in the build dir.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
mapfile -t sources < <(git ls-files 'common/*' 'matcher/*' 'store/*' 'dialogs/*' 'channels/*' 'bot/*' 'tests/*' 'bench/*' \
  | grep -E '\.(cpp|hpp)$')
clang-format --dry-run -Werror "${sources[@]}"
mapfile -t units < <(printf '%s\n' "${sources[@]}" | grep -E '^(common|matcher|store|dialogs|channels|bot)/.*\.cpp$')
mapfile -t batches < <(grep -oE '"file": "[^"]*/(common|matcher|store|dialogs|channels|bot)/CMakeFiles/[^"]*/Unity/unity_[0-9]+_cxx\.cxx"' \
  "$build/compile_commands.json" | sed -E 's/^"file": "(.*)"$/\1/' | sort -u)
if ((${#batches[@]} > 0)); then
  # A source no batch includes (excluded from the unity build) is checked on its own.
  batched="$(cat "${batches[@]}" | sed -nE "s|^#include \"$PWD/(.*)\"$|\1|p")"
  mapfile -t alone < <(printf '%s\n' "${units[@]}" | grep -vxF -e "$batched" || true)
  printf '%s\n' "${batches[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --config-file=.clang-tidy \
    --checks=-bugprone-suspicious-include --quiet
  units=("${alone[@]}")
fi
if ((${#units[@]} > 0)); then
  printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --config-file=.clang-tidy --quiet
fi
