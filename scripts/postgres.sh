#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: initdb in a temporary folder, a free loopback port,
# fsync and synchronous_commit on (the durability we promise), database bulwark_test.
#
# Usage:
#   scripts/postgres.sh start   # starts it and writes the env file (idempotent: a running cluster is kept)
#   scripts/postgres.sh env     # prints `export BULWARK_TEST_POSTGRES=...` for eval
#   scripts/postgres.sh stop    # stops it and removes its folder
# From test.sh:
#   scripts/postgres.sh start && trap 'scripts/postgres.sh stop' EXIT && eval "$(scripts/postgres.sh env)"
#
# The env file (default artifacts/postgres/env under the repo; override with BULWARK_PG_STATE) holds
# BULWARK_TEST_POSTGRES and the data folder, so stop and env find the cluster that start made.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${BULWARK_PG_STATE:-$repo_root/artifacts/postgres/env}"

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local name="$1"
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/$name" ]]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

ensure_server() {
  if find_bin initdb >/dev/null && find_bin pg_ctl >/dev/null; then return 0; fi
  log "initdb not found; installing the PostgreSQL server with apt-get"
  if [[ $(id -u) -ne 0 ]]; then log "need root to apt-get install postgresql; install it or put initdb on PATH"; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  find_bin initdb >/dev/null || { log "postgresql installed but initdb still not found"; exit 1; }
}

# Runs a command as the cluster owner: initdb and postgres refuse root, so root delegates to 'postgres'.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  log "no free port found"; return 1
}

is_running() {
  [[ -f "$state" ]] || return 1
  # shellcheck disable=SC1090
  source "$state"
  [[ -n "${BULWARK_PG_DATA:-}" && -f "$BULWARK_PG_DATA/postmaster.pid" ]] || return 1
  local pid; pid=$(head -1 "$BULWARK_PG_DATA/postmaster.pid")
  kill -0 "$pid" 2>/dev/null
}

start() {
  if is_running; then log "already running ($BULWARK_TEST_POSTGRES)"; return 0; fi
  ensure_server
  local initdb pg_ctl dir port
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-pg.XXXXXX")
  chmod 755 "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; fi
  as_owner "$initdb" -D "$dir/data" --auth=trust --username=postgres --encoding=UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; log "initdb failed"; exit 1; }

  local started=0
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on -c synchronous_commit=on -c max_connections=200" \
        >/dev/null 2>&1; then
      started=1; break
    fi
    log "start on port $port failed, trying another port"
  done
  [[ $started -eq 1 ]] || { tail -20 "$dir/server.log" >&2 || true; log "could not start PostgreSQL"; exit 1; }

  for _ in $(seq 1 60); do
    if pg_isready -h 127.0.0.1 -p "$port" -q 2>/dev/null || [[ -z $(command -v pg_isready) ]]; then break; fi
    sleep 0.5
  done
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -c "CREATE DATABASE bulwark_test" >/dev/null

  mkdir -p "$(dirname "$state")"
  cat >"$state" <<EOF
BULWARK_PG_DIR='$dir'
BULWARK_PG_DATA='$dir/data'
BULWARK_PG_PORT='$port'
BULWARK_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=bulwark_test'
EOF
  log "running on 127.0.0.1:$port (data $dir/data)"
}

stop() {
  [[ -f "$state" ]] || { log "not running (no $state)"; return 0; }
  # shellcheck disable=SC1090
  source "$state"
  if [[ -f "$BULWARK_PG_DATA/postmaster.pid" ]]; then
    as_owner "$(find_bin pg_ctl)" -D "$BULWARK_PG_DATA" -m fast -w stop >/dev/null 2>&1 || log "pg_ctl stop failed"
  fi
  rm -rf "$BULWARK_PG_DIR" "$state"
  log "stopped"
}

env_out() {
  [[ -f "$state" ]] || { log "not running: run scripts/postgres.sh start first"; exit 1; }
  # shellcheck disable=SC1090
  source "$state"
  echo "export BULWARK_TEST_POSTGRES='$BULWARK_TEST_POSTGRES'"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_out ;;
  *) echo "usage: scripts/postgres.sh start|stop|env" >&2; exit 2 ;;
esac
