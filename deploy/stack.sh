#!/usr/bin/env bash
# Local Kafka + PostgreSQL + Redis + s3proxy (the photo store's S3 path) for development
# and tests.
#   eval "$(deploy/stack.sh up)"     start all three (safe when already up), print exports
#   deploy/stack.sh status|down
# Env: KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_DATA_DIR PG_PORT PG_DATA_DIR REDIS_PORT
#      S3PROXY_PORT S3PROXY_DATA_DIR (see each script). Exports are also written to
#      <repo>/.local/stack-$KAFKA_PORT.env.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export KAFKA_PORT=${KAFKA_PORT:-19092}
export PG_PORT=${PG_PORT:-15432}
export REDIS_PORT=${REDIS_PORT:-16379}
export S3PROXY_PORT=${S3PROXY_PORT:-18081}
ENVFILE=$ROOT/.local/stack-$KAFKA_PORT.env
SCRIPTS=("$HERE/kafka/kafka.sh" "$HERE/postgres/pg.sh" "$HERE/redis/redis.sh" "$HERE/s3proxy/s3proxy.sh")

# run_all CMD: run every script with CMD in parallel; fail if any failed.
run_all() {
  local pids=() s rc=0
  for s in "${SCRIPTS[@]}"; do "$s" "$1" >&2 & pids+=($!); done
  for s in "${pids[@]}"; do wait "$s" || rc=1; done
  return $rc
}

case ${1:-} in
  up)
    # Kafka is slowest (jar fetch, JVM): its script starts first, the others alongside.
    if ! run_all start; then
      echo "stack: ERROR: a service failed to start (see above); stopping the stack" >&2
      run_all stop || true
      exit 1
    fi
    mkdir -p "$ROOT/.local"
    cat >"$ENVFILE" <<EOF
export DATABASE_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export S3PROXY_ENDPOINT=http://127.0.0.1:$S3PROXY_PORT
export S3PROXY_ACCESS_KEY=${S3PROXY_ACCESS_KEY:-local-identity}
export S3PROXY_SECRET_KEY=${S3PROXY_SECRET_KEY:-local-credential}
EOF
    echo "stack: up; exports in $ENVFILE" >&2
    cat "$ENVFILE"
    ;;
  down)
    run_all stop
    rm -f "$ENVFILE"
    echo "stack: down" >&2
    ;;
  status)
    run_all status
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
