#!/usr/bin/env bash
# kill -9 of the projector at 50 random points during a 100,000-event projection (change routines,
# then incidents and requests with their SLA obligations): each restart
# goes on from the offset stored with the views, and the end result has the digest of a clean
# rebuild (nothing lost, nothing applied twice).
source "$(dirname "$0")/lib.sh"
need_brokers
# The release binary when there is one: the point is crash consistency, and 50 restarts of the
# sanitizer build would take minutes.
[[ -n ${LEDGER_RELEASE_BIN:-} && -x ${LEDGER_RELEASE_BIN:-} ]] && LEDGER_BIN=$LEDGER_RELEASE_BIN

name=$(unique crash)
events=${CRASH_EVENTS:-100000}
kills=${CRASH_KILLS:-50}
# Four fifths change routines, one fifth incidents and requests (SLA obligations, links, the
# deadline index): about 100,000 records in all.
"$LEDGER_SOURCE_DIR/bench/gen-events" $((events * 4 / 5)) "$(openssl rand -hex 4)" >"$WORK/events.ndjson"
"$LEDGER_SOURCE_DIR/bench/gen-sla-events" $((events / 5 * 100 / 247)) "$(openssl rand -hex 4)" >>"$WORK/events.ndjson"
events=$(wc -l <"$WORK/events.ndjson")
"$LEDGER_BIN" emit "$WORK/events.ndjson" --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q ||
  fail "could not write the events"

args=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --log-level info)
applied() { "$LEDGER_BIN" digest --data "$WORK/data" --head-only 2>/dev/null | jq -r .applied_offset || echo -1; }
last=-1
during=0
span=$((events / kills))
for i in $(seq 1 "$kills"); do
  # A random point in the i-th fiftieth of the log: kill -9 as soon as the projector passes it.
  target=$(( (i - 1) * span + (RANDOM * 32768 + RANDOM) % span ))
  "$LEDGER_BIN" project "${args[@]}" >"$WORK/p.out" 2>"$WORK/p.log" &
  pid=$!
  for _ in $(seq 1 3000); do
    (( $(applied) >= target )) && break
    kill -0 "$pid" 2>/dev/null || fail "the projector exited: $(tail -5 "$WORK/p.log")"
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  now=$(applied)
  (( now >= last )) || fail "the applied offset went back from $last to $now after kill $i"
  (( now < events - 1 )) && during=$((during + 1))
  last=$now
done
echo "after $kills kills: applied through offset $last; $during kill(s) landed before the end of the log"
(( during >= kills * 4 / 5 )) || fail "only $during of $kills kills landed during the projection"

# Finish as a batch job (no --listen: no HTTP, so it never takes the port of a ledger serving
# there), then compare with a clean rebuild.
"$LEDGER_BIN" project --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" --exit-at-end \
  >"$WORK/p.out" 2>"$WORK/p.log" || fail "final projection: $(tail -5 "$WORK/p.log")"
grep -q "a batch job, no HTTP" "$WORK/p.log" && ! grep -q "serving http" "$WORK/p.log" &&
  grep -q "the whole log is applied, stopping" "$WORK/p.log" || fail "the batch job's log: $(cat "$WORK/p.log")"
[[ $(applied) == $((events - 1)) ]] || fail "the final projection ended at offset $(applied)"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/clean" --quiet >/dev/null
a=$("$LEDGER_BIN" digest --data "$WORK/data")
b=$("$LEDGER_BIN" digest --data "$WORK/clean")
[[ $a == "$b" ]] || fail "after $kills kills the digest $a differs from a clean rebuild $b"
echo "crash: ok ($kills kills, digest $a)"
