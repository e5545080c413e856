#!/usr/bin/env bash
# `ledger run` refuses an existing ledger topic that would delete audit data, naming the setting.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique policy)
kafka_topics --create --topic "ledger.$name" --partitions 1 --replication-factor 1 \
  --config retention.ms=3600000 >/dev/null

set +e
timeout 60 "$LEDGER_BIN" run --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 \
  --data "$WORK/data" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$WORK/err" >&2; fail "ledger run on a topic with retention.ms=3600000 exited $rc, want 1"; }
grep -q 'retention.ms=3600000' "$WORK/err" || { cat "$WORK/err" >&2; fail "the error does not name retention.ms"; }

# Two partitions: refused too.
name2=$(unique partitions)
kafka_topics --create --topic "ledger.$name2" --partitions 2 --replication-factor 1 \
  --config retention.ms=-1 --config retention.bytes=-1 >/dev/null
set +e
timeout 60 "$LEDGER_BIN" run --brokers "$LEDGER_TEST_BROKERS" --ledger "$name2" --listen 127.0.0.1:0 \
  --data "$WORK/data2" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "ledger run on a 2-partition topic exited $rc, want 1"
grep -q '2 partitions' "$WORK/err" || { cat "$WORK/err" >&2; fail "the error does not name the partitions"; }
echo "ok: unfit topics refused"
