#!/usr/bin/env bash
# One signer per ledger, and verification against its key and its published checkpoints
# (domain.md 4), through interface.md against the real broker: `ledger gateway` + `ledger project`
# + two `ledger query` nodes put one key on the checkpoint topic; an event posted to the gateway
# is read from both query nodes with min_offset, and all three directories have equal digests;
# a query node's directory verifies clean against the pinned key (`ledger key`, `verify --key`).
# Then the log is rewritten at offset 500 (topic deleted, its first 500 records written back,
# other records after them): a replay into a new directory and `ledger verify` of it both name
# offset 999, whose published checkpoint contradicts the rewritten log.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique signer)
topic="ledger.$name"
write_tokens
common=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --tokens "$WORK/tokens.toml")

declare -A PIDS URLS
start_node() {  # start_node LABEL ROLE ARGS... → PIDS[LABEL], URLS[LABEL]
  local label=$1 role=$2; shift 2
  "$LEDGER_BIN" "$role" "${common[@]}" "$@" >"$WORK/$label.out" 2>"$WORK/$label.log" &
  PIDS[$label]=$!
  for _ in $(seq 1 300); do
    URLS[$label]=$(grep -o 'serving http://[0-9.:]*' "$WORK/$label.log" 2>/dev/null | head -1 | cut -d' ' -f2) || true
    [[ -n ${URLS[$label]} ]] && return 0
    kill -0 "${PIDS[$label]}" 2>/dev/null || { cat "$WORK/$label.log" >&2; fail "ledger $role ($label) exited during start-up"; }
    sleep 0.1
  done
  fail "ledger $role ($label) did not serve within 30 s"
}
stop_nodes() {
  for label in "$@"; do
    kill -TERM "${PIDS[$label]}" 2>/dev/null || true
    wait "${PIDS[$label]}" 2>/dev/null || true
  done
}
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; cleanup' EXIT

start_node gw gateway
start_node proj project --data "$WORK/proj"
start_node q1 query --data "$WORK/q1"
start_node q2 query --data "$WORK/q2"
grep -q 'this process signs the checkpoints' "$WORK/proj.log" || fail "ledger project does not say it signs"
grep -q 'checkpoints are signed elsewhere' "$WORK/q1.log" || fail "a query node does not say it leaves signing"

"$LEDGER_SOURCE_DIR/bench/gen-events" 1100 "$(openssl rand -hex 4)" >"$WORK/events.ndjson"
"$LEDGER_BIN" emit "$WORK/events.ndjson" --url "${URLS[gw]}" --token "$ADMIN" -q 2>"$WORK/emit.err" ||
  fail "emit: $(cat "$WORK/emit.err")"

# The checkpoint at 999, and the quiet ledger's head (1099) 10 s later.
for _ in $(seq 1 300); do
  kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic.checkpoints" -p 0 -o beginning -e -q >"$WORK/cps" 2>/dev/null || true
  [[ $(jq -s '[.[].offset] | index(999) != null and index(1099) != null' "$WORK/cps" 2>/dev/null) == true ]] && break
  sleep 0.1
done
[[ $(jq -s '[.[].offset] | index(1099) != null' "$WORK/cps") == true ]] || fail "checkpoints: $(cat "$WORK/cps")"
"$LEDGER_BIN" key --data "$WORK/proj" >"$WORK/ledger.pub" || fail "ledger key"
[[ $(jq -s -r '[.[].public_key] | unique | join(",")' "$WORK/cps") == "$(cat "$WORK/ledger.pub")" ]] ||
  fail "the checkpoint topic holds other keys than the project node's: $(jq -s -r '[.[].public_key] | unique' "$WORK/cps")"

# An event posted to the gateway, read from both query nodes with min_offset.
body='{"id":"5b000000-0000-4000-8000-000000000001","type":"change.requested","entity":"change/SIGN-1","system":"AGRESSO","actor":"kari","occurred_at":"2026-03-02T10:15:00+01:00","data":{"title":"t","category":"patch","description":"d"}}'
code=$(curl -s -m 30 -o "$WORK/post" -w '%{http_code}' -X POST -H "Authorization: Bearer $AGRESSO" -d "$body" "${URLS[gw]}/v1/events")
[[ $code == 201 ]] || fail "POST to the gateway: $code $(cat "$WORK/post")"
offset=$(jq .offset "$WORK/post")
# ledger gateway has /metrics: appends by answer, idempotency hits, delivery latency.
code=$(curl -s -m 30 -o "$WORK/post" -w '%{http_code}' -X POST -H "Authorization: Bearer $AGRESSO" -d "$body" "${URLS[gw]}/v1/events")
[[ $code == 200 ]] || fail "the same event again: $code $(cat "$WORK/post")"
curl -s -m 10 "${URLS[gw]}/metrics" >"$WORK/gw.metrics"
grep -qx 'ledger_gateway_appends_total{answer="created"} 1101' "$WORK/gw.metrics" &&
  grep -qx 'ledger_gateway_appends_total{answer="duplicate"} 1' "$WORK/gw.metrics" &&
  grep -qx 'ledger_gateway_idempotency_total{how="index"} 1' "$WORK/gw.metrics" &&
  grep -qx 'ledger_gateway_delivery_seconds_count 1101' "$WORK/gw.metrics" &&
  grep -q '^ledger_health_ok{part="kafka"} 1$' "$WORK/gw.metrics" ||
  fail "gateway metrics: $(grep -E 'gateway|health' "$WORK/gw.metrics")"
for q in q1 q2; do
  code=$(curl -s -m 30 -o "$WORK/read" -w '%{http_code}' -H "Authorization: Bearer $READER" \
    "${URLS[$q]}/v1/entities/change/SIGN-1?min_offset=$offset")
  [[ $code == 200 && $(jq -r .state "$WORK/read") == requested ]] || fail "$q read its write: $code $(cat "$WORK/read")"
done
stop_nodes q1 q2 proj gw
d1=$("$LEDGER_BIN" digest --data "$WORK/q1")
d2=$("$LEDGER_BIN" digest --data "$WORK/q2")
dp=$("$LEDGER_BIN" digest --data "$WORK/proj")
[[ $d1 == "$d2" && $d1 == "$dp" ]] || fail "digests differ: q1 $d1, q2 $d2, project $dp"

# A query node's directory verifies clean: against the first published key with a warning, and
# against the pinned key without one.
rc=0; "$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/q1" --json >"$WORK/v" || rc=$?
[[ $rc == 0 && $(jq '.problems | length' "$WORK/v") == 0 && $(jq .checkpoints_checked "$WORK/v") -ge 2 ]] ||
  fail "verify q1: $rc $(cat "$WORK/v")"
[[ $(jq -r '.warnings | join(" ")' "$WORK/v") == *"--key"* ]] || fail "no warning that no key was pinned: $(cat "$WORK/v")"
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/q1" --key "$WORK/ledger.pub" \
  --json >"$WORK/v" || fail "verify q1 --key: $(cat "$WORK/v")"
[[ $(jq '.warnings | length' "$WORK/v") == 0 && $(jq -r .key "$WORK/v") == "$(cat "$WORK/ledger.pub")" ]] ||
  fail "verify --key: $(cat "$WORK/v")"
# Another key pinned: every checkpoint is refused, naming its offset.
printf '%s\n' "$(openssl rand -base64 32)" >"$WORK/other.pub"
rc=0; "$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/q1" --key "$WORK/other.pub" \
  --json >"$WORK/v" || rc=$?
[[ $rc == 1 && $(jq '[.problems[] | select(.offset == 999 and (.problem | contains("not the ledger")))] | length' "$WORK/v") -ge 1 ]] ||
  fail "verify with another key: $rc $(cat "$WORK/v")"

# The log rewritten at offset 500: the first 500 records written back exactly, others after.
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o beginning -c 500 -e -q >"$WORK/prefix"
[[ $(wc -l <"$WORK/prefix") == 500 ]] || fail "read $(wc -l <"$WORK/prefix") records of the prefix"
kafka_topics --delete --topic "$topic" >/dev/null 2>&1 || fail "could not delete $topic"
for _ in $(seq 1 100); do
  kafka_topics --list 2>/dev/null | grep -qx "$topic" || break
  sleep 0.2
done
"$LEDGER_BIN" emit /dev/null --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null || true
kcat -P -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -l "$WORK/prefix" || fail "kcat could not write the prefix back"
"$LEDGER_SOURCE_DIR/bench/gen-events" 700 "$(openssl rand -hex 4)" |
  "$LEDGER_BIN" emit - --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null
rc=0; "$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/replayed" \
  --key "$WORK/ledger.pub" --quiet >"$WORK/replay.out" 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "replay of the rewritten log exited $rc: $(cat "$WORK/replay.out")"
grep -q '^offset 999: .*rewritten' "$WORK/replay.out" || fail "replay does not name offset 999: $(cat "$WORK/replay.out")"
rc=0; "$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/replayed" \
  --key "$WORK/ledger.pub" --json >"$WORK/v" || rc=$?
[[ $rc == 1 && $(jq '.problems[0].offset' "$WORK/v") == 999 ]] || fail "verify of the replayed directory: $rc $(cat "$WORK/v")"
# Past the end: the replay says so, naming the last offset.
rc=0; "$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/past" --offset 5000 \
  --quiet >"$WORK/replay.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q 'last offset is 1199' "$WORK/replay.out" || fail "replay --offset 5000: $rc $(cat "$WORK/replay.out")"
echo "signer: ok"
