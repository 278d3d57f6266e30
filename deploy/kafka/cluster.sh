#!/usr/bin/env bash
# A 3-node Kafka KRaft cluster on loopback (each node broker + controller, the same jars
# as kafka.sh): topics get replication factor 3 and min.insync.replicas 2, so one node
# may die without losing or refusing an acknowledged write.
#   cluster.sh start|stop|status
#   cluster.sh kill N        SIGKILL node N (1-3): a crash, no clean shutdown
#   cluster.sh restart N     start node N again (after kill or stop)
#   cluster.sh bootstrap     print the bootstrap servers (host:port,...)
# Env: KAFKA_CLUSTER_PORTS ("29092 29094 29096": broker ports; each node's controller
#      listens on port+1), KAFKA_CLUSTER_DIR (<repo>/.local/kafka-cluster-<first port>),
#      and kafka.sh's KAFKA_JAVA_OPTS, KAFKA_START_TIMEOUT, KAWAL_CACHE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
read -r -a PORTS <<<"${KAFKA_CLUSTER_PORTS:-29092 29094 29096}"
(( ${#PORTS[@]} == 3 )) || { echo "cluster: KAFKA_CLUSTER_PORTS needs 3 ports" >&2; exit 2; }
DIR=${KAFKA_CLUSTER_DIR:-$ROOT/.local/kafka-cluster-${PORTS[0]}}
VOTERS=$(for i in 1 2 3; do printf '%s@127.0.0.1:%s,' "$i" $(( PORTS[i-1] + 1 )); done)
VOTERS=${VOTERS%,}

# node N ARGS...: run kafka.sh for node N (1-3) with its ports, folder and the quorum.
node() {
  local n=$1; shift
  cluster_id >/dev/null
  KAFKA_PORT=${PORTS[n-1]} KAFKA_CONTROLLER_PORT=$(( PORTS[n-1] + 1 )) \
  KAFKA_DATA_DIR=$DIR/node-$n KAFKA_NODE_ID=$n KAFKA_QUORUM_VOTERS=$VOTERS \
  KAFKA_CLUSTER_ID=$(cat "$DIR/cluster-id") KAFKA_REPLICATION=3 \
    "$HERE/kafka.sh" "$@"
}

# The cluster's id, made once (every node's storage is formatted with it).
cluster_id() {
  mkdir -p "$DIR"
  [[ -s $DIR/cluster-id ]] || head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' \
    | sed 's/^-/A/' >"$DIR/cluster-id"
  cat "$DIR/cluster-id"
}

# A node is ready only once the others answer too (a quorum of controllers): start all
# three at once and wait for each.
start_all() {
  "$HERE/kafka.sh" fetch >/dev/null
  cluster_id >/dev/null                # before the nodes start in parallel
  local pids=() n failed=0
  for n in 1 2 3; do node "$n" start & pids+=($!); done
  for n in "${!pids[@]}"; do wait "${pids[n]}" || failed=1; done
  (( failed == 0 )) || { stop_all; echo "cluster: a node did not start" >&2; exit 1; }
  echo "cluster: up; bootstrap $(bootstrap)" >&2
}

# All nodes at once: a node stopping alone waits for a quorum the others no longer form.
stop_all() {
  local n pid pids=() i
  for n in 1 2 3; do
    pid=$(cat "$DIR/node-$n/kafka.pid" 2>/dev/null) || continue
    kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid"; pids+=("$pid"); }
  done
  for ((i = 0; i < 60; i++)); do   # up to 30 s for a clean shutdown
    for n in "${!pids[@]}"; do kill -0 "${pids[n]}" 2>/dev/null || unset 'pids[n]'; done
    (( ${#pids[@]} == 0 )) && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$DIR"/node-*/kafka.pid
  echo "cluster: stopped" >&2
}

kill_node() {
  local pid
  pid=$(cat "$DIR/node-$1/kafka.pid" 2>/dev/null) || { echo "cluster: node $1 not running" >&2; exit 1; }
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$DIR/node-$1/kafka.pid"
  echo "cluster: node $1 (pid $pid) killed" >&2
}

bootstrap() { local p out=""; for p in "${PORTS[@]}"; do out+="127.0.0.1:$p,"; done; echo "${out%,}"; }

case ${1:-} in
  start) start_all ;;
  stop) stop_all ;;
  status) for n in 1 2 3; do node "$n" status || true; done ;;
  kill) kill_node "${2:?node 1-3}" ;;
  restart) node "${2:?node 1-3}" start ;;
  bootstrap) bootstrap ;;
  *) echo "usage: $0 start|stop|status|kill N|restart N|bootstrap" >&2; exit 2 ;;
esac
