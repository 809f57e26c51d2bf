#!/usr/bin/env bash
# Sums the <Counters> of TRX files and prints one line: "N passed, N failed, N skipped".
# Usage: scripts/trx-summary.sh FILE.trx...   Exit 0 when it could read every file, 1 otherwise.
# Failed counts failed + error + timeout + aborted; skipped counts notExecuted (xunit's Skip).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "trx-summary: give one or more .trx files" >&2
  exit 1
fi

attr() { # attr NAME COUNTERS_ELEMENT -> the number, or 0 when absent
  local value
  value=$(printf '%s' "$2" | grep -o " $1=\"[0-9]*\"" | head -n 1 | sed 's/[^0-9]//g' || true)
  printf '%s' "${value:-0}"
}

passed=0 failed=0 skipped=0 status=0
for file in "$@"; do
  # Counters sits on one line in every TRX we produce; tr keeps it whole even if it did not.
  counters=$(tr '\n' ' ' < "$file" | grep -o '<Counters [^>]*>' | head -n 1 || true)
  if [ -z "$counters" ]; then
    echo "trx-summary: no <Counters> element in $file" >&2
    status=1
    continue
  fi
  passed=$((passed + $(attr passed "$counters")))
  failed=$((failed + $(attr failed "$counters") + $(attr error "$counters") + $(attr timeout "$counters") + $(attr aborted "$counters")))
  skipped=$((skipped + $(attr notExecuted "$counters")))
done

echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
