#!/usr/bin/env bash
# Throwaway local Redis, 127.0.0.1 only, no persistence.
#   redis.sh start|stop|status
# Env: REDIS_PORT (16379), REDIS_DIR (/tmp/kawal-redis-$REDIS_PORT: pid file, log).
set -euo pipefail

PORT=${REDIS_PORT:-16379}
DIR=${REDIS_DIR:-/tmp/kawal-redis-$PORT}
PIDFILE=$DIR/redis.pid

say() { echo "redis: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
as_root() { if (( EUID == 0 )); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }
pong() { [[ $(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null) == PONG ]]; }
running_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) && [[ -n $pid ]] \
    && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q redis-server && echo "$pid"
}

install() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  exec 8>/tmp/kawal-apt.lock
  flock 8                        # parallel stacks on a fresh machine install once
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    say "installing redis-server from Debian"
    local log=/tmp/kawal-redis-apt.$$.log
    { as_root apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
    } >"$log" 2>&1 || { cat "$log" >&2; die "apt-get could not install redis-server"; }
    rm -f "$log"
  fi
  exec 8>&-
}

start() {
  install
  local pid i
  if pid=$(running_pid); then
    say "already running (pid $pid) on 127.0.0.1:$PORT"
  else
    pong && die "port $PORT already answers but is not ours ($PIDFILE)"
    mkdir -p "$DIR"
    say "starting on 127.0.0.1:$PORT (log $DIR/redis.log)"
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --dir "$DIR" --pidfile "$PIDFILE" --logfile "$DIR/redis.log" >&2
  fi
  for ((i = 0; i < 100; i++)); do
    pong && { say "ready"; return 0; }
    sleep 0.1
  done
  tail -n 20 "$DIR/redis.log" >&2
  die "no PONG on 127.0.0.1:$PORT"
}

stop() {
  local pid i
  pid=$(running_pid) || { say "not running"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    running_pid >/dev/null || { say "stopped"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  say "killed"
}

status() {
  local pid
  if pid=$(running_pid) && pong; then say "running (pid $pid) on 127.0.0.1:$PORT"
  else say "not running (127.0.0.1:$PORT)"; return 1; fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
