# shellcheck shell=bash
# Shared functions of ops/kafka/{start,stop,cluster,install}. Sourced, never run.
#
# A node lives in one directory: server.properties, the KRaft log dirs under data/,
# the broker's console output in server.log and its pid in broker.pid.

KAFKA_OPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$KAFKA_OPS_DIR/../.." && pwd)
KAFKA_LIBS=${KAFKA_LIBS:-$REPO_ROOT/var/kafka/libs}
# The broker version: the one property kafka.version in pom.xml.
KAFKA_VERSION=$(sed -n 's#.*<kafka.version>\(.*\)</kafka.version>.*#\1#p' "$KAFKA_OPS_DIR/pom.xml")
# Kafka's own JVM flags; the heap is modest by default (2-core, test-sized machines).
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-120}

kafka_log() { printf '[kafka] %s\n' "$*" >&2; }
kafka_die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }

# Resolves the broker and tool jars from Maven Central when they are missing or of another
# version (jars of two versions on one classpath would mix).
kafka_ensure_jars() {
  if [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar && -f $KAFKA_LIBS/kafka-tools-$KAFKA_VERSION.jar ]]; then
    return 0
  fi
  if compgen -G "$KAFKA_LIBS/*.jar" >/dev/null; then
    kafka_log "replacing the Kafka jars in $KAFKA_LIBS with version $KAFKA_VERSION"
    rm -f "$KAFKA_LIBS"/*.jar
  fi
  command -v mvn >/dev/null || kafka_die "Maven (mvn) is needed to resolve the Kafka jars; run ./ops/install"
  command -v java >/dev/null || kafka_die "Java 17 is needed to run the Kafka broker; run ./ops/install"
  kafka_log "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  mvn -q -B -Dstyle.color=never -f "$KAFKA_OPS_DIR/pom.xml" -Dkafka.libs="$KAFKA_LIBS" package \
    || kafka_die "mvn could not resolve the Kafka jars (see the output above)"
}

# Runs one Kafka main class with the project's classpath: kafka_java CLASS ARGS...
kafka_java() {
  local cls=$1; shift
  # shellcheck disable=SC2086
  java ${KAFKA_TOOL_HEAP_OPTS:--Xmx256m} $KAFKA_JVM_OPTS \
    -Dlog4j2.configurationFile="$KAFKA_OPS_DIR/tools-log4j2.xml" \
    -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

# Is something accepting TCP connections on 127.0.0.1:PORT?
kafka_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid of the node in DIR if it is running, else nothing (exit 1).
kafka_node_pid() {
  local dir=$1 pid
  [[ -f $dir/broker.pid ]] || return 1
  pid=$(<"$dir/broker.pid")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  # The pid may have been reused by another program after a crash.
  grep -q 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# Writes DIR/server.properties for one KRaft node acting as broker and controller.
# kafka_write_config DIR NODE_ID PORT CONTROLLER_PORT VOTERS REPLICATION
kafka_write_config() {
  local dir=$1 id=$2 port=$3 cport=$4 voters=$5 rf=$6 min_isr=1
  (( rf >= 3 )) && min_isr=2
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<PROPS
# Written by ops/kafka; edits are overwritten on the next start.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
default.replication.factor=$rf
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.retention.bytes=-1
log.cleanup.policy=delete
PROPS
}

# Formats the node's storage the first time (KRaft needs a cluster id). Idempotent.
# kafka_format DIR CLUSTER_ID
kafka_format() {
  local dir=$1 cluster_id=$2
  [[ -f $dir/data/meta.properties ]] && return 0
  kafka_log "formatting storage in $dir/data"
  kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" --ignore-formatted \
    >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; kafka_die "storage format failed in $dir"; }
}

kafka_random_cluster_id() { kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1; }

# Starts the node in DIR in the background unless it is already running.
# kafka_launch DIR PORT
kafka_launch() {
  local dir=$1 port=$2 pid
  if pid=$(kafka_node_pid "$dir"); then
    kafka_log "node in $dir already running (pid $pid)"
    return 0
  fi
  if kafka_port_open "$port"; then
    kafka_die "port $port is already taken by another program; set KAFKA_PORT to another port"
  fi
  [[ -f $dir/server.log ]] && mv -f "$dir/server.log" "$dir/server.log.1"
  # shellcheck disable=SC2086
  # Own session: a Ctrl-C in the terminal reaches the ledger, and ops/ stops the broker itself.
  setsid nohup java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS \
    -Dlog4j2.configurationFile="$KAFKA_OPS_DIR/log4j2.xml" \
    -Dkafka.logs.dir="$dir" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/server.log" 2>&1 </dev/null &
  echo $! >"$dir/broker.pid"
  kafka_log "node in $dir starting (pid $!, port $port)"
}

# Waits until the node in DIR logs that it started. Fails if it dies or times out.
kafka_wait_ready() {
  local dir=$1 deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null; then
      return 0
    fi
    # Only "gone" counts as dead here: right after the fork, before exec, the process's
    # cmdline is still the shell's, so kafka_node_pid's cmdline check would misfire.
    if ! kill -0 "$(cat "$dir/broker.pid" 2>/dev/null)" 2>/dev/null; then
      tail -n 30 "$dir/server.log" >&2 2>/dev/null
      kafka_die "the broker in $dir exited during start-up (log: $dir/server.log)"
    fi
    sleep 0.5
  done
  kafka_die "the broker in $dir was not ready after ${KAFKA_READY_TIMEOUT}s (log: $dir/server.log)"
}

# Stops the node in DIR: SIGTERM for a clean shutdown, SIGKILL after a grace period.
kafka_terminate() {
  local dir=$1 signal=${2:-TERM} pid waited=0
  pid=$(kafka_node_pid "$dir") || { rm -f "$dir/broker.pid"; return 0; }
  kill "-$signal" "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 600)); then   # 60 s
      kafka_log "pid $pid did not stop within 60 s; killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
    sleep 0.1; waited=$((waited + 1))
  done
  rm -f "$dir/broker.pid"
}
