#!/usr/bin/env bash
# Runs the whole system on its embedded default: Kafka and Redis from deploy/,
# SQLite databases under .local/, both APIs, both outbox relays, the consumer and
# the deadline worker; loads demo data from the field reports and prints the URLs.
# Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install.sh"
VENV="$ROOT/.local/venv/bin"
export INTAKE_PORT="${INTAKE_PORT:-8001}" FOLLOWUP_PORT="${FOLLOWUP_PORT:-8002}"
export KAFKA_PORT="${KAFKA_PORT:-19092}" REDIS_PORT="${REDIS_PORT:-16379}"
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
LOGS="$ROOT/.local/run-logs"
mkdir -p "$LOGS"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping..." >&2
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/kafka/kafka.sh stop || true
  deploy/redis/redis.sh stop || true
  exit 0
}
trap stop_all INT TERM EXIT

deploy/kafka/kafka.sh start
deploy/redis/redis.sh start
"$VENV/python" -m intake_service.cli migrate
"$VENV/python" -m followup_service.cli migrate

start() {  # start NAME COMMAND...: run in the background, log to .local/run-logs/NAME.log
  local name=$1; shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
}
start intake-api "$VENV/gunicorn" -b "127.0.0.1:$INTAKE_PORT" -w 2 --threads 4 \
  "intake_service.app:create_app()"
start followup-api "$VENV/gunicorn" -b "127.0.0.1:$FOLLOWUP_PORT" -w 2 --threads 4 \
  "followup_service.app:create_app()"
start intake-relay "$VENV/python" -m intake_service.cli relay
start followup-consumer "$VENV/python" -m followup_service.cli consumer
start followup-relay "$VENV/python" -m followup_service.cli relay
start followup-worker "$VENV/python" -m followup_service.cli worker

"$VENV/python" -m intake_service.cli demo --intake-url "http://127.0.0.1:$INTAKE_PORT" \
  --followup-url "http://127.0.0.1:$FOLLOWUP_PORT"

cat <<MSG

Kawal Aspirasi is running (logs in .local/run-logs/):
  intake API     http://127.0.0.1:$INTAKE_PORT/api/v1/aspirations
  follow-up API  http://127.0.0.1:$FOLLOWUP_PORT/api/v1/track/<tracking code>
  health         http://127.0.0.1:$INTAKE_PORT/readyz  http://127.0.0.1:$FOLLOWUP_PORT/readyz
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
echo "a process exited; see .local/run-logs/" >&2
