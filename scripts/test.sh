#!/usr/bin/env bash
# The full test suite on a fresh machine: installs what is missing, starts Kafka,
# PostgreSQL and Redis on free ports, runs ruff and pytest, stops them again.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install.sh" --browser
export KAWAL_ENV=development   # the suite signs tokens with the built-in development secret
PY="$ROOT/.local/venv/bin/python"

read -r KAFKA_PORT KAFKA_CONTROLLER_PORT PG_PORT REDIS_PORT S3PROXY_PORT < <(python3 scripts/free_ports.py 5)
export KAFKA_PORT KAFKA_CONTROLLER_PORT PG_PORT REDIS_PORT S3PROXY_PORT
export S3PROXY_DATA_DIR="/tmp/kawal-test-s3proxy-$S3PROXY_PORT"
export KAFKA_DATA_DIR="$ROOT/.local/test-kafka-$KAFKA_PORT"
export PG_DATA_DIR="/tmp/kawal-test-pg-$PG_PORT"

cleanup() {
  deploy/stack.sh down >/dev/null 2>&1 || true
  # the run's PostgreSQL cluster too (about 1 GB each): left behind, they filled the disk
  rm -rf "$KAFKA_DATA_DIR" "$S3PROXY_DATA_DIR" "$PG_DATA_DIR"
}
trap cleanup EXIT
eval "$(deploy/stack.sh up)"

if [ $# -eq 0 ]; then
  "$PY" -m ruff check .   # lint is part of the full run only
  set -- tests
fi
"$PY" -m pytest "$@"
