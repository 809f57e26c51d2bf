#!/usr/bin/env bash
# Builds Bulwark once and runs every test project. The last line is the total: "N passed, N failed, N skipped".
# Usage: ./test.sh [--filter EXPR]   (EXPR is passed to `dotnet test --filter`, e.g. --filter "FullyQualifiedName~Cli")
# Needs the .NET 10 SDK. Installs with apt (as root, on Debian/Ubuntu) only what the tests need and is missing.
set -euo pipefail
cd "$(dirname "$0")"

filter=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --filter) [ "$#" -ge 2 ] || { echo "test.sh: --filter needs an expression" >&2; exit 2; }; filter="$2"; shift 2 ;;
    --filter=*) filter="${1#--filter=}"; shift ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (only --filter EXPR is accepted)" >&2; exit 2 ;;
  esac
done

results=artifacts/test-results

require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "test.sh: 'dotnet' was not found. Install the .NET 10 SDK (https://dot.net/download," >&2
    echo "  or on Debian: apt-get install dotnet-sdk-10.0 from packages.microsoft.com) and run ./test.sh again." >&2
    exit 1
  fi
  if ! dotnet --list-sdks | grep -q '^10\.'; then
    echo "test.sh: the .NET 10 SDK is required; found: $(dotnet --list-sdks | tr '\n' ' ')" >&2
    exit 1
  fi
}

# ---------------------------------------------------------------------------------------------
# System packages the tests need. Add one here only when a test project uses it; each is installed
# only when that project exists and the machine lacks it. apt-get update runs once, before installing.
# ---------------------------------------------------------------------------------------------
have_postgres_server() { # scripts/postgres.sh runs a throwaway cluster with initdb/pg_ctl
  command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
have_chromium() { # the dashboard tests drive /usr/bin/chromium headless
  [ -x /usr/bin/chromium ]
}

have_promtool() { # the packaging tests check deploy/prometheus/bulwark-alerts.yml with promtool (Debian package: prometheus)
  command -v promtool >/dev/null 2>&1
}

install_test_dependencies() {
  local missing=()
  if [ -d tests/Bulwark.Postgres.Tests ] && ! have_postgres_server; then missing+=(postgresql); fi
  if [ -d tests/Bulwark.Dashboard.Tests ] && ! have_chromium; then missing+=(chromium); fi
  if [ -d tests/Bulwark.Packaging.Tests ] && ! have_promtool; then missing+=(prometheus); fi
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: the tests need these packages and apt-get is not available: ${missing[*]}" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test.sh: installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The PostgreSQL store tests get a throwaway cluster for this run (stopped on exit, whatever happens).
start_test_postgres() {
  [ -d tests/Bulwark.Postgres.Tests ] || return 0
  scripts/postgres.sh start || { echo "test.sh: could not start the test PostgreSQL cluster (see above)" >&2; exit 1; }
  trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
  eval "$(scripts/postgres.sh env)"
}

stop_test_postgres() {
  [ -d tests/Bulwark.Postgres.Tests ] || return 0
  scripts/postgres.sh stop >/dev/null 2>&1 || echo "test.sh: could not stop the test PostgreSQL cluster" >&2
  trap - EXIT
}

require_dotnet
install_test_dependencies

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mapfile -t projects < <(ls tests/*/*.Tests.csproj 2>/dev/null | sort)
if [ "${#projects[@]}" -eq 0 ]; then
  echo "test.sh: no test projects found (tests/*/*.Tests.csproj)" >&2
  exit 1
fi
for project in "${projects[@]}"; do
  # --no-build below only finds what the solution build produced.
  if ! grep -q "Path=\"$project\"" Bulwark.slnx; then
    echo "test.sh: $project is not in Bulwark.slnx; add it with: dotnet sln Bulwark.slnx add $project" >&2
    exit 1
  fi
done

echo "test.sh: restoring and building (Release)"
dotnet restore Bulwark.slnx --verbosity quiet || { echo "test.sh: dotnet restore failed (errors above)" >&2; exit 1; }
dotnet build Bulwark.slnx -c Release --no-restore --nologo --verbosity quiet || { echo "test.sh: the build failed (errors above)" >&2; exit 1; }

rm -rf "$results"
mkdir -p "$results"
start_test_postgres

crashed=()
trx_files=()
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "test.sh: testing $name"
  args=(test "$project" -c Release --no-build --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results")
  [ -n "$filter" ] && args+=(--filter "$filter")
  code=0
  dotnet "${args[@]}" || code=$?
  if [ ! -s "$results/$name.trx" ]; then
    echo "test.sh: $name produced no TRX file (dotnet test exited $code): its run crashed" >&2
    crashed+=("$name")
    continue
  fi
  trx_files+=("$results/$name.trx")
  # A non-zero exit with no failed test in the TRX means the host crashed or aborted mid-run.
  if [ "$code" -ne 0 ] && grep -q 'failed="0"' "$results/$name.trx" && ! grep -q 'outcome="Failed"' "$results/$name.trx"; then
    echo "test.sh: $name exited $code without a failed test: its run crashed or aborted" >&2
    crashed+=("$name")
  fi
done

stop_test_postgres

status=0
summary="0 passed, 0 failed, 0 skipped"
if [ "${#trx_files[@]}" -gt 0 ]; then
  summary=$(scripts/trx-summary.sh "${trx_files[@]}") || status=1
fi
read -r passed _ failed _ skipped _ <<<"$summary"

if [ "${#crashed[@]}" -gt 0 ]; then
  echo "test.sh: these test runs crashed: ${crashed[*]}" >&2
  status=1
fi
if [ "$failed" -gt 0 ]; then
  echo "test.sh: $failed test(s) failed; see $results/*.trx" >&2
  status=1
fi
if [ $((passed + failed)) -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  status=1
fi

echo "$summary"
exit "$status"
