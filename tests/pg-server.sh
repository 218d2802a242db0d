#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests (../shared/TOOLCHAIN.md §5).
#
#   eval "$(tests/pg-server.sh start)"   # prints export lines for RETORT_TEST_POSTGRES_URL,
#                                        # RETORT_TEST_PG_BASE and RETORT_TEST_PG_PORT
#   tests/pg-server.sh status [BASE]     # exit 0 when the server at BASE runs
#   tests/pg-server.sh stop [BASE]       # stops and removes it; never fails
#
# BASE defaults to $RETORT_TEST_PG_BASE. Host connections use scram-sha-256, so the password in
# the URL is really checked; local (unix socket) connections are trusted for administration.
# Only the export lines go to stdout; every diagnostic goes to stderr.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
FIRST_PORT=${RETORT_TEST_PG_FIRST_PORT:-55433}
LAST_PORT=$((FIRST_PORT + 100))
ROLE=retort
DATABASE=retort_test

say() { echo "pg-server: $*" >&2; }

# initdb and the server refuse to run as root; postgres cannot enter /root, hence cwd /.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_running() {
  local base=$1
  [ -n "$base" ] && [ -f "$base/data/PG_VERSION" ] &&
    as_pg "$PGBIN/pg_ctl" -D "$base/data" status >/dev/null 2>&1
}

start_on_free_port() {
  local base=$1 port
  for ((port = FIRST_PORT; port <= LAST_PORT; port++)); do
    port_in_use "$port" && continue
    # Another process may take the port between the probe and the bind: then try the next.
    if as_pg "$PGBIN/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 30 \
      -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >"$base/pg_ctl.log" 2>&1; then
      echo "$port"
      return 0
    fi
    if ! grep -qiE 'could not (bind|create listen socket)|address already in use' "$base/server.log" 2>/dev/null; then
      say "server failed to start; log follows"
      cat "$base/pg_ctl.log" "$base/server.log" >&2 2>/dev/null || true
      return 1
    fi
  done
  say "no free port in $FIRST_PORT..$LAST_PORT"
  return 1
}

cmd_start() {
  local existing=${RETORT_TEST_PG_BASE:-}
  if is_running "$existing" && [ -f "$existing/env" ]; then
    say "reusing the running server in $existing"
    cat "$existing/env"
    return 0
  fi

  [ -x "$PGBIN/initdb" ] || { say "no PostgreSQL binaries in $PGBIN"; return 1; }
  # Short path: the unix socket path limit is 107 bytes. Created by root, then handed over,
  # because postgres cannot create directories below root-owned ones.
  local base
  base=$(mktemp -d /tmp/rpg.XXXXXX)
  trap 'as_pg "$PGBIN/pg_ctl" -D "'"$base"'/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "'"$base"'"' ERR
  chmod 700 "$base"

  local superpw rolepw
  superpw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  rolepw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$superpw" >"$base/superpw"
  chmod 600 "$base/superpw"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$base"

  as_pg "$PGBIN/initdb" -D "$base/data" -U postgres --auth-host=scram-sha-256 --auth-local=trust \
    --pwfile="$base/superpw" -E UTF8 --locale=C.UTF-8 --no-sync >"$base/initdb.log" 2>&1 ||
    { say "initdb failed"; cat "$base/initdb.log" >&2; false; }
  rm -f "$base/superpw"

  local port
  port=$(start_on_free_port "$base")

  # Passwords go through psql variables (:'pw'), never spliced into SQL text by hand.
  as_pg "$PGBIN/psql" -h "$base" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -v pw="$rolepw" >/dev/null <<SQL
SET password_encryption = 'scram-sha-256';
CREATE ROLE $ROLE LOGIN PASSWORD :'pw';
CREATE DATABASE $DATABASE OWNER $ROLE;
SQL

  {
    echo "export RETORT_TEST_POSTGRES_URL=postgresql://$ROLE:$rolepw@127.0.0.1:$port/$DATABASE"
    echo "export RETORT_TEST_PG_BASE=$base"
    echo "export RETORT_TEST_PG_PORT=$port"
  } >"$base/env"
  chmod 600 "$base/env"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$base/env"
  trap - ERR
  say "PostgreSQL running on 127.0.0.1:$port, data in $base"
  cat "$base/env"
}

cmd_stop() {
  local base=${1:-${RETORT_TEST_PG_BASE:-}}
  if [ -z "$base" ]; then
    say "nothing to stop (no BASE given and RETORT_TEST_PG_BASE unset)"
    return 0
  fi
  # Refuse anything that is not one of ours, so a stray variable cannot remove a real directory.
  case "$base" in
  /tmp/rpg.*) ;;
  *)
    say "refusing to remove $base: not a directory made by this script"
    return 0
    ;;
  esac
  if [ -f "$base/data/PG_VERSION" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$base/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_pg "$PGBIN/pg_ctl" -D "$base/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$base"
  say "stopped and removed $base"
}

cmd_status() {
  local base=${1:-${RETORT_TEST_PG_BASE:-}}
  if is_running "$base"; then
    say "running in $base"
    return 0
  fi
  say "not running${base:+ in $base}"
  return 1
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop "${2:-}" || true ;;
status) cmd_status "${2:-}" ;;
*)
  echo "usage: $0 start | stop [BASE] | status [BASE]" >&2
  exit 2
  ;;
esac
