#!/usr/bin/env bash
# Throwaway local PostgreSQL cluster, trust auth, 127.0.0.1 only.
#   pg.sh start|stop|status|createdb NAME...
# Env: PG_PORT (15432), PG_DATA_DIR (/tmp/kawal-pg-$PG_PORT: outside the repo,
#      whose folders the postgres user may not be allowed to traverse).
# URL: postgresql://postgres@127.0.0.1:$PG_PORT/postgres
set -euo pipefail

PORT=${PG_PORT:-15432}
DATA=${PG_DATA_DIR:-/tmp/kawal-pg-$PORT}
LOG=$DATA/postgres.log

say() { echo "pg: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# as_root CMD...: run CMD as root (directly, or through sudo when not root).
as_root() { if (( EUID == 0 )); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

pg_bin() { printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1; }
BIN=$(pg_bin)
install() {
  [[ -x $BIN/initdb ]] && return 0
  exec 8>/tmp/kawal-apt.lock
  flock 8                        # one apt-get at a time across our scripts
  BIN=$(pg_bin)
  if [[ ! -x $BIN/initdb ]]; then
    say "installing PostgreSQL server binaries from Debian"
    local log=/tmp/kawal-pg-apt.$$.log
    { as_root apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
    } >"$log" 2>&1 || { cat "$log" >&2; die "apt-get could not install postgresql"; }
    rm -f "$log"
    BIN=$(pg_bin)
  fi
  exec 8>&-
}

# initdb and the server refuse to run as root: use the postgres user then.
pg() {
  [[ -x $BIN/$1 ]] || return 1
  if (( EUID == 0 )); then (cd / && runuser -u postgres -- "$BIN/$1" "${@:2}")
  else "$BIN/$1" "${@:2}"; fi
}

start() {
  install
  if pg pg_ctl status -D "$DATA" >/dev/null 2>&1; then
    say "already running on 127.0.0.1:$PORT ($DATA)"
  else
    if [[ ! -f $DATA/PG_VERSION ]]; then
      mkdir -p "$DATA"
      chmod 700 "$DATA"
      (( EUID == 0 )) && chown postgres:postgres "$DATA"
      say "initdb $DATA"
      pg initdb -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >"$DATA.initdb.log" 2>&1 \
        || { cat "$DATA.initdb.log" >&2; die "initdb failed (can the postgres user reach $DATA?)"; }
      rm -f "$DATA.initdb.log"
      cat >>"$DATA/postgresql.conf" <<EOF
# Added by deploy/postgres/pg.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
max_connections = 200
EOF
    fi
    say "starting on 127.0.0.1:$PORT ($DATA)"
    pg pg_ctl start -s -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 60 >&2 \
      || { tail -n 30 "$LOG" >&2; die "start failed"; }
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && { say "ready"; return 0; }
    sleep 0.5
  done
  die "not accepting connections on 127.0.0.1:$PORT"
}

stop() {
  if pg pg_ctl status -D "$DATA" >/dev/null 2>&1; then
    pg pg_ctl stop -s -D "$DATA" -m fast -w -t 60 >&2 && say "stopped"
  else
    say "not running ($DATA)"
  fi
}

status() {
  if pg pg_ctl status -D "$DATA" >/dev/null 2>&1; then say "running on 127.0.0.1:$PORT ($DATA)"
  else say "not running ($DATA)"; return 1; fi
}

# createdb NAME...: create each database unless it exists (the server must be running).
createdb() {
  local name
  for name in "$@"; do
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name: $name"
    if [[ -z $("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
      "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE $name" >&2
      say "created database $name"
    fi
  done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  createdb) shift; createdb "$@" ;;
  *) echo "usage: $0 start|stop|status|createdb NAME..." >&2; exit 2 ;;
esac
