#!/usr/bin/env bash
# Runs the whole system as it runs in production, on this machine: PostgreSQL, Kafka
# and Redis from deploy/, both APIs under gunicorn, both outbox relays, the follow-up
# consumer and the deadline worker; loads the demo data from the field reports and
# prints the pages, the demo sign-ins and where the logs are. Ctrl-C stops everything.
# A long-running process that exits is restarted with backoff (1 s doubling to 30 s; back
# to 1 s once it has run for 60 s); the terminal and its log say so, and its pid is in
# .local/run/NAME.pid.
#
#   scripts/run.sh            keep the data of the last run (.local/pg, .local/kafka-data-*)
#   scripts/run.sh --fresh    start over with empty databases and topics
#
# Ports (env): INTAKE_PORT 8001, FOLLOWUP_PORT 8002, KAFKA_PORT 19092,
# KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), PG_PORT 15432, REDIS_PORT 16379; metrics of the
# processes that are not APIs: INTAKE_RELAY_METRICS_PORT 9101, FOLLOWUP_RELAY_METRICS_PORT
# 9102, FOLLOWUP_CONSUMER_METRICS_PORT 9103, FOLLOWUP_WORKER_METRICS_PORT 9104,
# FOLLOWUP_NOTIFIER_METRICS_PORT 9105. Residents' messages go to a local SMTP sink on
# SMTP_PORT 8025 that writes each one as a file under MAIL_DIR (.local/mail).
# Folders (env): RUN_LOG_DIR .local/run-logs, RUN_DIR .local/run (pid files, demo sign-ins).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FRESH=0
for arg in "$@"; do
  case $arg in
    --fresh) FRESH=1 ;;
    *) echo "usage: $0 [--fresh]" >&2; exit 2 ;;
  esac
done

"$ROOT/scripts/install.sh"
VENV="$ROOT/.local/venv/bin"
export KAWAL_ENV=development   # the built-in signing secret is for this machine only
export LOG_FORMAT="${LOG_FORMAT:-console}"   # readable logs here; the services default to JSON lines
export INTAKE_PORT="${INTAKE_PORT:-8001}" FOLLOWUP_PORT="${FOLLOWUP_PORT:-8002}"
export KAFKA_PORT="${KAFKA_PORT:-19092}" REDIS_PORT="${REDIS_PORT:-16379}" PG_PORT="${PG_PORT:-15432}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
INTAKE_RELAY_METRICS_PORT="${INTAKE_RELAY_METRICS_PORT:-9101}"
FOLLOWUP_RELAY_METRICS_PORT="${FOLLOWUP_RELAY_METRICS_PORT:-9102}"
FOLLOWUP_CONSUMER_METRICS_PORT="${FOLLOWUP_CONSUMER_METRICS_PORT:-9103}"
FOLLOWUP_WORKER_METRICS_PORT="${FOLLOWUP_WORKER_METRICS_PORT:-9104}"
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$ROOT/.local/kafka-data-$KAFKA_PORT}"
export PG_DATA_DIR="${PG_DATA_DIR:-$ROOT/.local/pg-$PG_PORT}"
export INTAKE_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/kawal_intake"
export FOLLOWUP_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/kawal_followup"
# Accounts live in the follow-up service: intake's /masuk sends staff there and back.
export INTAKE_SIGN_IN_URL="http://127.0.0.1:$FOLLOWUP_PORT/masuk"
export FOLLOWUP_TRUSTED_ORIGINS="http://127.0.0.1:$INTAKE_PORT"
export FOLLOWUP_INTAKE_URL="http://127.0.0.1:$INTAKE_PORT"  # Open311 POSTs go on to intake
# Residents' messages (the notifier): SMTP to the local sink, links to this follow-up
FOLLOWUP_NOTIFIER_METRICS_PORT="${FOLLOWUP_NOTIFIER_METRICS_PORT:-9105}"
export SMTP_HOST=127.0.0.1 SMTP_PORT="${SMTP_PORT:-8025}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$FOLLOWUP_PORT}"
MAIL_DIR="${MAIL_DIR:-$ROOT/.local/mail}"
LOGS="${RUN_LOG_DIR:-$ROOT/.local/run-logs}"
RUN_DIR="${RUN_DIR:-$ROOT/.local/run}"
mkdir -p "$LOGS" "$RUN_DIR"
: >"$LOGS/stack.log"
: >"$LOGS/migrate.log"
: >"$LOGS/demo.log"   # this run's codes only (the greeting reads the first)

# PostgreSQL runs as the postgres user, which must be able to reach its data folder.
if (( EUID == 0 )) && ! runuser -u postgres -- test -x "$(dirname "$PG_DATA_DIR")"; then
  PG_DATA_DIR="/var/tmp/kawal-aspirasi-pg-$(echo "$ROOT" | sha256sum | cut -c1-8)-$PG_PORT"
  export PG_DATA_DIR
fi

say() { echo "run: $*" >&2; }
# quietly LOGNAME CMD...: run CMD with its output in the log; show the log's tail if it fails.
quietly() {
  local log="$LOGS/$1.log"; shift
  "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; say "failed: $* (log: $log)"; return 1; }
}

pids=()    # one supervisor (see supervise) per long-running process
names=()
STOP_GRACE=${STOP_GRACE:-30}   # seconds a process gets to finish its work after Ctrl-C
stop_all() {
  trap - INT TERM EXIT
  echo >&2; say "stopping..."
  local pid i left
  # a supervisor stops restarting, passes SIGTERM on to its process and exits after it
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < STOP_GRACE * 5; i++)); do
    left=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    (( left )) || break
    sleep 0.2
  done
  for i in "${!pids[@]}"; do  # whatever still runs is stuck: say which, then kill it
    if kill -0 "${pids[i]}" 2>/dev/null; then
      say "${names[i]} did not stop within ${STOP_GRACE}s; killing it (see $LOGS/${names[i]}.log)"
      # its supervisor exits once the process is gone
      kill -KILL "$(cat "$RUN_DIR/${names[i]}.pid" 2>/dev/null || echo "${pids[i]}")" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  deploy/kafka/kafka.sh stop >>"$LOGS/stack.log" 2>&1 || true
  deploy/redis/redis.sh stop >>"$LOGS/stack.log" 2>&1 || true
  deploy/postgres/pg.sh stop >>"$LOGS/stack.log" 2>&1 || true
  say "stopped"
  exit 0
}
trap stop_all INT TERM EXIT

if (( FRESH )); then
  say "--fresh: removing the data of earlier runs"
  deploy/kafka/kafka.sh stop >>"$LOGS/stack.log" 2>&1 || true
  deploy/postgres/pg.sh stop >>"$LOGS/stack.log" 2>&1 || true
  deploy/redis/redis.sh stop >>"$LOGS/stack.log" 2>&1 || true
  rm -rf "$PG_DATA_DIR" "$KAFKA_DATA_DIR"
fi

say "starting PostgreSQL, Kafka and Redis (log: $LOGS/stack.log)"
quietly stack deploy/postgres/pg.sh start &
pg_job=$!
quietly stack deploy/kafka/kafka.sh start &
kafka_job=$!
quietly stack deploy/redis/redis.sh start
wait "$pg_job"
wait "$kafka_job"
quietly stack deploy/postgres/pg.sh createdb kawal_intake kawal_followup

say "migrating both databases (log: $LOGS/migrate.log)"
quietly migrate "$VENV/python" -m intake_service.cli migrate
quietly migrate "$VENV/python" -m followup_service.cli migrate

RESTART_MAX_DELAY=30   # seconds between restarts at most (from 1, doubling)
RESTART_STABLE_AFTER=60  # a process that ran this long is restarted after 1 s again
# supervise NAME COMMAND...: run COMMAND (its pid in $RUN_DIR/NAME.pid, its output appended
# to NAME.log) and start it again with backoff whenever it exits, until SIGINT or SIGTERM.
supervise() {
  trap - EXIT
  set +e
  local log="$LOGS/$1.log" pidfile="$RUN_DIR/$1.pid" name=$1; shift
  local delay=1 restarts=0 started status up what
  child='' pause='' stopping=0
  # Ctrl-C (SIGINT to every process) or stop_all (SIGTERM): stop, do not restart
  trap 'stopping=1; kill -TERM $child $pause 2>/dev/null' INT TERM
  while :; do
    started=$SECONDS
    "$@" >>"$log" 2>&1 &   # $! is the process itself: bash execs the command (env execs)
    child=$!
    (( stopping )) && kill -TERM "$child" 2>/dev/null  # stopped while it was being started
    echo "$child" >"$pidfile"
    if (( restarts )); then
      # the log first: whoever reads the terminal line finds it in the log too
      echo "run: $(date -u +%FT%TZ) $name restarted (pid $child)" >>"$log"
      say "$name restarted (pid $child)"
    fi
    wait "$child" 2>/dev/null; status=$?   # (no "Killed" notice from bash)
    # a trapped SIGTERM ends the wait early: wait again until the process has exited
    while kill -0 "$child" 2>/dev/null; do wait "$child" 2>/dev/null; status=$?; done
    rm -f "$pidfile"
    # a signal to the whole group reaches the process too: let our trap run first
    (( stopping )) || { sleep 0.5 & pause=$!; wait "$pause" 2>/dev/null; pause=""; }
    (( stopping )) && return 0
    up=$(( SECONDS - started ))
    (( up >= RESTART_STABLE_AFTER )) && delay=1
    what="status $status"
    (( status > 128 )) && what+=" (SIG$(kill -l "$status"))"
    what="$name (pid $child) exited with $what after ${up}s; restarting it in ${delay}s"
    child=''
    echo "run: $(date -u +%FT%TZ) $what" >>"$log"
    say "$what"
    sleep "$delay" & pause=$!; wait "$pause" 2>/dev/null; pause=""
    (( stopping )) && return 0
    delay=$(( delay * 2 > RESTART_MAX_DELAY ? RESTART_MAX_DELAY : delay * 2 ))
    restarts=$(( restarts + 1 ))
  done
}
start() {  # start NAME COMMAND...: supervised in the background, log to .local/run-logs/NAME.log
  local name=$1; shift
  : >"$LOGS/$name.log"   # this run's log; restarts append to it
  supervise "$name" "$@" &
  pids+=($!)
  names+=("$name")
}
say "starting both APIs, both relays, the consumer, the deadline worker, the notifier and the SMTP sink"
# gunicorn_conf.py: each API's workers share a fresh Prometheus multiprocess directory
start intake-api "$VENV/gunicorn" -c shared/gunicorn_conf.py -b "127.0.0.1:$INTAKE_PORT" \
  -w 2 --threads 4 "intake_service.app:create_app()"
start followup-api "$VENV/gunicorn" -c shared/gunicorn_conf.py -b "127.0.0.1:$FOLLOWUP_PORT" \
  -w 2 --threads 4 "followup_service.app:create_app()"
start intake-relay env METRICS_PORT="$INTAKE_RELAY_METRICS_PORT" \
  "$VENV/python" -m intake_service.cli relay
start followup-consumer env METRICS_PORT="$FOLLOWUP_CONSUMER_METRICS_PORT" \
  "$VENV/python" -m followup_service.cli consumer
start followup-relay env METRICS_PORT="$FOLLOWUP_RELAY_METRICS_PORT" \
  "$VENV/python" -m followup_service.cli relay
start followup-worker env METRICS_PORT="$FOLLOWUP_WORKER_METRICS_PORT" \
  "$VENV/python" -m followup_service.cli worker
start smtp-sink "$VENV/python" -m followup_service.notifications.smtp_sink \
  --port "$SMTP_PORT" --dir "$MAIL_DIR"
start followup-notifier env METRICS_PORT="$FOLLOWUP_NOTIFIER_METRICS_PORT" \
  "$VENV/python" -m followup_service.cli notifier

INTAKE="http://127.0.0.1:$INTAKE_PORT" FOLLOWUP="http://127.0.0.1:$FOLLOWUP_PORT"
say "loading the demo meetings (log: $LOGS/demo.log)"
quietly demo "$VENV/python" -m intake_service.cli demo --intake-url "$INTAKE" --followup-url "$FOLLOWUP"
# -m1, not "| head": with pipefail a grep cut off by head (SIGPIPE) would stop run.sh
code=$(grep -m1 -oE "KA-[A-Z0-9]{4}-[A-Z0-9]{2}" "$LOGS/demo.log")
code=${code%%$'\n'*}  # -o prints every match of that line (the code appears twice)
SIGNIN="$RUN_DIR/sign-in.txt"
quietly demo "$VENV/python" -m followup_service.cli demo-accounts
"$VENV/python" -m followup_service.cli demo-accounts >"$SIGNIN"

cat <<MSG

Kawal Aspirasi is running.

  Residents (no login)
    track a case          $FOLLOWUP/lacak/$code    (any code from $LOGS/demo.log)
    Open311 discovery     $FOLLOWUP/open311/v2/discovery.json
  Officers
    log a meeting         $INTAKE/catat
  Agency liaisons
    worklist              $FOLLOWUP/kerja
  Supervisors
    dashboard             $FOLLOWUP/dasbor
    report-back           $FOLLOWUP/laporan
  APIs (OpenAPI)          $INTAKE/openapi.json   $FOLLOWUP/openapi.json
  Health                  $INTAKE/readyz   $FOLLOWUP/readyz
  Metrics (Prometheus)    $INTAKE/metrics   $FOLLOWUP/metrics
    intake relay          http://127.0.0.1:$INTAKE_RELAY_METRICS_PORT/metrics
    follow-up relay       http://127.0.0.1:$FOLLOWUP_RELAY_METRICS_PORT/metrics
    follow-up consumer    http://127.0.0.1:$FOLLOWUP_CONSUMER_METRICS_PORT/metrics
    deadline worker       http://127.0.0.1:$FOLLOWUP_WORKER_METRICS_PORT/metrics
    notifier              http://127.0.0.1:$FOLLOWUP_NOTIFIER_METRICS_PORT/metrics

  Residents' messages     email to a local SMTP sink, 127.0.0.1:$SMTP_PORT
    each message a file in $MAIL_DIR/
  Feeds (Atom)            $FOLLOWUP/lacak/$code.atom   $FOLLOWUP/wilayah/3604.atom

  Staff accounts    $FOLLOWUP/admin/akun   (admins; supervisors for their unit's officers)
  Sign in at /masuk on either service (demo accounts, also in $SIGNIN):
$(sed 's/^/    /' "$SIGNIN")

  Logs: $LOGS/ (one file per process). Data is kept between runs; --fresh starts over.
Press Ctrl-C to stop.
MSG
set +e
wait -n "${pids[@]}"   # supervisors run until stopped; one that was stopped alone ends the run
say "a supervisor exited; see $LOGS/"
