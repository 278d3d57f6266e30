#!/usr/bin/env bash
# Benchmarks on the real stack: installs what is missing (venv, wrk), starts Kafka,
# PostgreSQL and Redis on free ports, runs `python -m bench`, stops them again.
#   scripts/bench.sh [--size tiny|small|full] [--only relay,consumer,...] [--profile consumer]
# Default size: small (a few minutes). Results: bench/results/<timestamp>/ and latest/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install.sh"
PY="$ROOT/.local/venv/bin/python"

if ! command -v wrk >/dev/null; then
  echo "bench: installing Debian wrk (HTTP load generator)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null; }; then
    echo "bench: wrk unavailable; falling back to the Python load generator" >&2
  fi
fi

read -r KAFKA_PORT KAFKA_CONTROLLER_PORT PG_PORT REDIS_PORT S3PROXY_PORT < <(python3 scripts/free_ports.py 5)
export KAFKA_PORT KAFKA_CONTROLLER_PORT PG_PORT REDIS_PORT S3PROXY_PORT
export S3PROXY_DATA_DIR="/tmp/kawal-bench-s3proxy-$S3PROXY_PORT"
export KAFKA_DATA_DIR="$ROOT/.local/bench-kafka-$KAFKA_PORT"
export PG_DATA_DIR="/tmp/kawal-bench-pg-$PG_PORT"

cleanup() {
  deploy/stack.sh down >/dev/null 2>&1 || true
  rm -rf "$KAFKA_DATA_DIR" "$PG_DATA_DIR" "$S3PROXY_DATA_DIR"
}
trap cleanup EXIT
eval "$(deploy/stack.sh up)"

"$PY" -m bench "$@"
