#!/usr/bin/env bash
# ops/kafka/start on a running node is a no-op: one broker, same pid; kcat lists it.
source "$(dirname "$0")/../cli/lib.sh"
: "${LEDGER_TEST_KAFKA_PORT:?set by ./ops/test}" "${LEDGER_TEST_KAFKA_DIR:?set by ./ops/test}"

pid_before=$(<"$LEDGER_TEST_KAFKA_DIR/broker.pid")
out=$(KAFKA_PORT=$LEDGER_TEST_KAFKA_PORT KAFKA_DIR=$LEDGER_TEST_KAFKA_DIR "$LEDGER_SOURCE_DIR/ops/kafka/start" 2>&1) ||
  fail "second start failed: $out"
grep -q 'already running' <<<"$out" || fail "second start did not say it was already running: $out"
[[ $(<"$LEDGER_TEST_KAFKA_DIR/broker.pid") == "$pid_before" ]] || fail "the pid changed"
n=$(pgrep -f "kafka.Kafka $LEDGER_TEST_KAFKA_DIR/server.properties" | wc -l)
[[ $n == 1 ]] || fail "$n brokers run on $LEDGER_TEST_KAFKA_DIR, want 1"
kcat -L -b "127.0.0.1:$LEDGER_TEST_KAFKA_PORT" >"$WORK/meta" 2>&1 || fail "kcat -L failed"
grep -q "broker 1 at 127.0.0.1:$LEDGER_TEST_KAFKA_PORT" "$WORK/meta" || fail "kcat does not list the broker"
echo "ok: start is idempotent"
