#!/usr/bin/env bash
# `ledger run` creates its topic, serves GET /v1/health, takes flags from LEDGER_* variables and
# stops cleanly on SIGTERM.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique health)
# Flags from the environment, as interface.md says.
LEDGER_BROKERS=$LEDGER_TEST_BROKERS LEDGER_LEDGER=$name LEDGER_LISTEN=127.0.0.1:0 LEDGER_DATA=$WORK/data \
  start_ledger

code=$(curl -s -o "$WORK/health.json" -w '%{http_code}' "$LEDGER_URL/v1/health")
[[ $code == 200 ]] || fail "GET /v1/health answered $code"
jq -e --arg n "$name" '.status == "ok" and .ledger == $n and .topic == "ledger." + $n' \
  "$WORK/health.json" >/dev/null || fail "unexpected health body: $(cat "$WORK/health.json")"

code=$(curl -s -o /dev/null -w '%{http_code}' "$LEDGER_URL/v1/nothing")
[[ $code == 404 ]] || fail "an unknown path answered $code, want 404"

# The topic exists with one partition, as the broker itself reports.
kcat -L -b "$LEDGER_TEST_BROKERS" -t "ledger.$name" >"$WORK/meta" 2>&1
grep -q 'topic "ledger.'"$name"'" with 1 partitions' "$WORK/meta" || { cat "$WORK/meta" >&2; fail "topic not created"; }
[[ -d $WORK/data ]] || fail "the data directory from LEDGER_DATA was not created"

kill -TERM "$LEDGER_PID"
for i in $(seq 1 100); do kill -0 "$LEDGER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LEDGER_PID" 2>/dev/null && fail "ledger run did not stop within 10 s of SIGTERM"
wait "$LEDGER_PID" || fail "ledger run exited $? after SIGTERM, want 0"
grep -q 'stopped' "$WORK/run.log" || fail "no clean-stop line in the log"
echo "ok: health, environment flags, clean stop"
