#!/usr/bin/env bash
# A data directory is bound to the log it was built from, through interface.md against the real
# broker: its topic deleted (as a fresh or emptied broker would have it), `ledger run --data DIR`
# refuses to start and does not create the topic; the topic recreated with fewer records, or with
# as many but other ones, it refuses naming the directory, the topic and what differs: no 2xx, no
# stale read. A copy of the directory against its own log starts and serves.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique bound)
topic="ledger.$name"
write_tokens
args=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --tokens "$WORK/tokens.toml")
"$LEDGER_SOURCE_DIR/bench/gen-events" 20 "$(openssl rand -hex 4)" >"$WORK/events.ndjson"
start_ledger "${args[@]}"
"$LEDGER_BIN" emit "$WORK/events.ndjson" --url "$LEDGER_URL" --token "$ADMIN" -q 2>/dev/null || fail "emit"
code=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/entities/actor/admin?min_offset=19")
[[ $code == 200 ]] || fail "the ledger did not apply its 20 events: $code"
# One writer, really: with the first ledger running, a second process on its directory is refused
# whatever files are removed beside the data, and before it reads Kafka (a broker that is not there).
rm -f "$WORK/data/projector.lock"
rc=0; timeout 30 "$LEDGER_BIN" project --brokers 127.0.0.1:1 --ledger "$name" --data "$WORK/data" >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q 'in use by another projector' "$WORK/err" || fail "a second projector: $rc $(cat "$WORK/err")"
stop_ledger
# A copy of the directory against its own log starts and serves.
cp -a "$WORK/data" "$WORK/copy"
start_ledger --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/copy" --tokens "$WORK/tokens.toml"
code=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/entities/actor/admin")
[[ $code == 200 ]] || fail "a copy against its own log: $code"
stop_ledger

# refuses ARGS...: `ledger run ARGS` must exit 1 without serving; its stderr in $WORK/err.
refuses() {
  local rc=0
  timeout 60 "$LEDGER_BIN" run "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc == 1 ]] || fail "ledger run $* exited $rc (expected 1): $(cat "$WORK/err")"
  ! grep -q 'serving http' "$WORK/err" || fail "ledger run served before refusing: $(cat "$WORK/err")"
}

# The topic gone: no topic is created under the directory's read models.
kafka_topics --delete --topic "$topic" >/dev/null 2>&1 || fail "could not delete $topic"
for _ in $(seq 1 100); do
  kafka_topics --list 2>/dev/null | grep -qx "$topic" || break
  sleep 0.2
done
refuses "${args[@]}"
grep -q "$WORK/data holds 20 records of $topic" "$WORK/err" && grep -q 'refusing to create it' "$WORK/err" ||
  fail "the refusal does not name the directory and topic: $(cat "$WORK/err")"
! kafka_topics --list 2>/dev/null | grep -qx "$topic" || fail "the topic was created anyway"

# Recreated with five other records: fewer than the directory applied.
"$LEDGER_SOURCE_DIR/bench/gen-events" 5 "$(openssl rand -hex 4)" |
  "$LEDGER_BIN" emit - --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null
refuses "${args[@]}"
grep -q "$WORK/data was built from 20 records of $topic" "$WORK/err" && grep -q 'ends at offset 4 (5 records)' "$WORK/err" ||
  fail "the refusal does not say what differs: $(cat "$WORK/err")"

# Recreated again with 30 other records: as many and more, but not the same log.
"$LEDGER_SOURCE_DIR/bench/gen-events" 25 "$(openssl rand -hex 4)" |
  "$LEDGER_BIN" emit - --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null
refuses "${args[@]}"
grep -q 'holds another record at offset 0' "$WORK/err" || fail "the refusal does not name offset 0: $(cat "$WORK/err")"
# A query node refuses alike.
"$LEDGER_BIN" query "${args[@]}" >/dev/null 2>"$WORK/err" && fail "ledger query served a directory of another log"
grep -q 'holds another record at offset 0' "$WORK/err" || fail "ledger query: $(cat "$WORK/err")"

# A fresh directory on the recreated log starts and serves it.
start_ledger --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/fresh" --tokens "$WORK/tokens.toml"
code=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/entities/actor/admin?min_offset=29")
[[ $code == 200 ]] || fail "a fresh directory on the recreated log: $code $(cat "$WORK/body")"
stop_ledger
# The topic deleted and created again under a running ledger: the projector stops, and writes
# and reads are refused (503, nothing written) naming what happened; health says stalled.
name=$(unique bound2)
topic="ledger.$name"
start_ledger --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/live" --tokens "$WORK/tokens.toml"
"$LEDGER_BIN" emit "$WORK/events.ndjson" --url "$LEDGER_URL" --token "$ADMIN" -q 2>/dev/null || fail "emit"
code=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/entities/actor/admin?min_offset=19")
[[ $code == 200 ]] || fail "the live ledger did not apply its 20 events: $code"
kafka_topics --delete --topic "$topic" >/dev/null 2>&1 || fail "could not delete $topic"
for _ in $(seq 1 100); do
  kafka_topics --list 2>/dev/null | grep -qx "$topic" || break
  sleep 0.2
done
"$LEDGER_SOURCE_DIR/bench/gen-events" 25 "$(openssl rand -hex 4)" |
  "$LEDGER_BIN" emit - --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null
for _ in $(seq 1 300); do
  code=$(curl -s -m 5 -o "$WORK/health" -w '%{http_code}' "$LEDGER_URL/v1/health")
  [[ $code == 503 && $(jq -r .status "$WORK/health") == stalled ]] && break
  sleep 0.1
done
[[ $code == 503 && $(jq -r .projector.error "$WORK/health") == *"$WORK/live"* ]] ||
  fail "health under a recreated topic: $code $(cat "$WORK/health")"
code=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
  --data-binary "$(sed -n 8p "$WORK/events.ndjson" | sed 's/"id":"[^"]*"/"id":"5c000000-0000-4000-8000-000000000001"/')" "$LEDGER_URL/v1/events")
[[ $code == 503 && $(jq -r .error "$WORK/body") == "Nothing was written"* ]] || fail "a write under a recreated topic: $code $(cat "$WORK/body")"
code=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/entities/actor/admin")
[[ $code == 503 ]] || fail "a read under a recreated topic: $code $(cat "$WORK/body")"
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o beginning -e -q -f '%k\n' | grep -q 5c000000-0000-4000-8000-000000000001 &&
  fail "the refused write is in Kafka"
stop_ledger
# ledger project serves no HTTP unless given --listen: beside a running ledger it would take 8080.
"$LEDGER_BIN" project --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/proj" >/dev/null 2>"$WORK/proj.log" &
proj=$!
for _ in $(seq 1 100); do grep -q 'no HTTP' "$WORK/proj.log" && break; sleep 0.1; done
kill -TERM "$proj"; wait "$proj" || true
grep -q 'no HTTP' "$WORK/proj.log" && ! grep -q 'serving http' "$WORK/proj.log" ||
  fail "ledger project without --listen: $(cat "$WORK/proj.log")"
echo "bound: ok"
