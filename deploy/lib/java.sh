# Shared by the Java services run from Maven Central jars (deploy/kafka/kafka.sh,
# deploy/s3proxy/s3proxy.sh): Java and Maven, the locked fetch into the cache, the pid
# file, start-up wait, stop and status. Sourced, never run.
# The caller sets, before calling these: SVC (log prefix and temp names), PROC_MATCH (a
# grep pattern its java command line holds), PIDFILE, LOG, CACHE, PORT, DATA, TIMEOUT
# (seconds to start), STOP_GRACE (seconds to exit cleanly after TERM).
# shellcheck shell=bash

say() { echo "$SVC: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the pid if the pid file names a live process of this service.
running_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "$PROC_MATCH" || return 1
  echo "$pid"
}

as_root() { if (( EUID == 0 )); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

# The machine image has OpenJDK 17 and Maven; install them from Debian if not.
need_java_mvn() {
  { command -v java && command -v mvn; } >/dev/null && return 0
  exec 8>/tmp/kawal-apt.lock
  flock 8                              # one apt-get at a time across our scripts
  if ! { command -v java && command -v mvn; } >/dev/null; then
    say "installing java and maven from Debian"
    local log=/tmp/kawal-$SVC-apt.$$.log
    { as_root apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven
    } >"$log" 2>&1 || { cat "$log" >&2; die "apt-get failed"; }
    rm -f "$log"
  fi
  exec 8>&-
}

# maven_fetch TARGET WHAT FROM MAVEN_ARGS...: unless TARGET exists, run maven into a fresh
# folder in $CACHE (its -DoutputDirectory) and move FROM in it ("." for all) to TARGET.
# Concurrent fetches wait for each other; TARGET exists only when complete.
maven_fetch() {
  local target=$1 what=$2 from=$3
  shift 3
  [[ -e $target ]] && return 0
  need_java_mvn
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if [[ ! -e $target ]]; then
    say "fetching $what into $target"
    local tmp=$CACHE/tmp.$$
    rm -rf "$tmp"
    mvn -q -B "$@" -DoutputDirectory="$tmp" >"$CACHE/mvn.log" 2>&1 \
      || { cat "$CACHE/mvn.log" >&2; rm -rf "$tmp"; die "maven could not fetch $what"; }
    if [[ $from == . ]]; then mv "$tmp" "$target"; else mv "$tmp/$from" "$target"; fi
    rm -rf "$tmp"
  fi
  exec 9>&-
}

# spawn COMMAND...: run it in its own session with no inherited fds (it outlives the
# calling shell), its pid in $PIDFILE, its output in $LOG (the last one kept as .prev).
spawn() {
  [[ -f $LOG ]] && mv -f "$LOG" "$LOG.prev"
  # shellcheck disable=SC2016  # $$ is the inner shell's
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDFILE" "$@" </dev/null >"$LOG" 2>&1 &
}

# await_ready READY_LINE T0: wait (TIMEOUT s from T0) for READY_LINE in $LOG and $PORT open.
await_ready() {
  local ready=$1 t0=$2 pid
  while (( SECONDS - t0 < TIMEOUT )); do
    sleep 0.5
    if ! pid=$(running_pid); then
      sleep 0.5; pid=$(running_pid) || { tail -n 40 "$LOG" >&2; die "$SVC exited during start"; }
    fi
    if grep -q "$ready" "$LOG" && port_open "$PORT"; then
      say "ready (pid $pid) after $((SECONDS - t0)) s"; return 0
    fi
  done
  tail -n 40 "$LOG" >&2
  stop_service || true
  die "not ready within $TIMEOUT s"
}

# TERM, then KILL after STOP_GRACE seconds without a clean exit.
stop_service() {
  local grace=$STOP_GRACE pid i
  pid=$(running_pid) || { say "not running"; rm -f "$PIDFILE"; return 0; }
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 4; i++)); do
    running_pid >/dev/null || { rm -f "$PIDFILE"; say "stopped"; return 0; }
    sleep 0.25
  done
  say "no clean exit in $grace s; killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  while running_pid >/dev/null; do sleep 0.2; done
  rm -f "$PIDFILE"
}

status_service() {
  local pid
  if pid=$(running_pid); then say "running (pid $pid) on 127.0.0.1:$PORT, data $DATA"
  else say "not running (127.0.0.1:$PORT)"; return 1; fi
}
