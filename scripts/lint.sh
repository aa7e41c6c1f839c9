#!/usr/bin/env bash
# Formatting and static checks: clang-format (the one style) and clang-tidy (naming, bug-prone
# constructs), over our own sources only. Exits non-zero on the first finding.
#   scripts/lint.sh [BUILD_DIR]     BUILD_DIR holds compile_commands.json (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
mapfile -t sources < <(git ls-files 'common/*' 'matcher/*' 'store/*' 'dialogs/*' 'channels/*' 'bot/*' 'tests/*' 'bench/*' \
  | grep -E '\.(cpp|hpp)$')
clang-format --dry-run -Werror "${sources[@]}"
mapfile -t units < <(printf '%s\n' "${sources[@]}" | grep -E '^(common|matcher|store|dialogs|channels|bot)/.*\.cpp$')
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet
