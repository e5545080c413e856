#!/usr/bin/env bash
# The read side through interface.md against the real broker: the demo data projected by
# `ledger run`, entity status with as_of and min_offset, trails, findings, timeline, a record
# written with kcat that is not an event, replay and digest, verify (clean, an edited read
# model, an altered copy of the ledger), a second projector refused, read CLI commands.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique proj)
topic="ledger.$name"
write_tokens
admin=$ADMIN reader=$READER producer=$AGRESSO
args=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --tokens "$WORK/tokens.toml")
start_ledger "${args[@]}"

get() {  # get TOKEN PATH → body in $WORK/body, prints the status
  curl -s -m 30 -o "$WORK/body" -w '%{http_code}' ${1:+-H "Authorization: Bearer $1"} "$LEDGER_URL$2"
}
expect() {  # expect STATUS TOKEN PATH
  local got; got=$(get "$2" "$3")
  [[ $got == "$1" ]] || fail "GET $3: expected $1, got $got: $(cat "$WORK/body")"
}
field() { jq -r "$1" "$WORK/body"; }

# The demo data, through the gateway.
"$LEDGER_SOURCE_DIR/ops/demo/load" >"$WORK/demo.ndjson"
"$LEDGER_BIN" emit "$WORK/demo.ndjson" --url "$LEDGER_URL" --token "$admin" --json >"$WORK/emit.json" 2>/dev/null
last=$(( $(wc -l <"$WORK/demo.ndjson") - 1 ))

# Read your writes: min_offset waits for the projector.
expect 200 "$reader" "/v1/entities/change/CHG-101?min_offset=$last"
[[ $(field .state) == closed ]] || fail "CHG-101 state $(field .state)"
[[ $(field '.findings | length') == 0 ]] || fail "CHG-101, the routine followed, has findings: $(cat "$WORK/body")"
[[ $(field .seq) == 9 ]] || fail "CHG-101 seq $(field .seq)"
expect 200 "$reader" /v1/entities/change/CHG-102
[[ $(field .state) == in_production ]] || fail "CHG-102 state $(field .state)"
[[ $(field '[.findings[].finding] | sort | join(",")') == production_without_approval,production_without_test_signoff ]] ||
  fail "CHG-102 findings: $(field '[.findings[].finding]')"
expect 200 "$reader" /v1/entities/route/R-4
[[ $(field .state) == active && $(field '.findings | length') == 0 ]] || fail "route R-4: $(cat "$WORK/body")"
expect 200 "$reader" /v1/entities/route/R-5
[[ $(field '.findings[0].finding') == route_change_outside_window ]] || fail "route R-5: $(cat "$WORK/body")"
expect 200 "$reader" /v1/entities/key/SEAL-2025
[[ $(field .state) == rotated && $(field .fields.successor) == SEAL-2026 ]] || fail "key: $(cat "$WORK/body")"

# The demo's SLA: INC-10 (A) unresolved after 5 h, MNT-3 announced a day ahead (5 working days
# needed), two hours of outage this month (production allows 43 min a month: its availability is
# breached); INC-9 (B, on a Sunday) resolved in time.
expect 200 "$reader" /v1/breaches
[[ $(field '[.breaches[] | "\(.obligation) \(.entity)"] | unique | join(",")') == \
   "availability service/AGRESSO-PROD,incident_resolution incident/INC-10,maintenance_notice maintenance/MNT-3" ]] ||
  fail "demo breaches: $(cat "$WORK/body")"
expect 200 "$reader" /v1/entities/incident/INC-9
[[ $(field '[.obligations[] | "\(.obligation) \(.state)"] | join(",")') == "incident_feedback met,incident_resolution met" ]] ||
  fail "INC-9 obligations: $(field .obligations)"
outage_month=$(TZ=Europe/Oslo date -d '-420 min' +%Y-%m)
expect 200 "$reader" "/v1/availability?service=AGRESSO-PROD&month=$outage_month"
if [[ $outage_month == "$(TZ=Europe/Oslo date -d '-300 min' +%Y-%m)" ]]; then  # not across a month's end
  [[ $(field .outage_minutes) == 120 && $(field .breached) == true ]] || fail "demo availability: $(cat "$WORK/body")"
fi

# as_of: CHG-101 just after its start approval (the 14th demo line) was "approved".
approved_at=$(sed -n 14p "$WORK/demo.ndjson" | jq -r .occurred_at)
expect 200 "$reader" "/v1/entities/change/CHG-101?as_of=$approved_at"
[[ $(field .state) == approved && $(field .seq) == 2 ]] || fail "as_of: $(cat "$WORK/body")"
expect 404 "$reader" "/v1/entities/change/CHG-101?as_of=2000-01-01T00:00:00Z"
expect 400 "$reader" "/v1/entities/change/CHG-101?as_of=yesterday"
[[ $(field .field) == as_of ]] || fail "400 names the parameter: $(cat "$WORK/body")"
expect 404 "$reader" /v1/entities/change/NOPE
expect 401 "" /v1/entities/change/CHG-101
expect 403 "$producer" /v1/entities/change/CHG-101
( code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $reader" \
    "$LEDGER_URL/v1/entities/change/CHG-101?min_offset=999999"); [[ $code == 504 ]] ) &
wait_504=$!

# Trails: ledger order, seq 1..n, coordinates and both hashes.
expect 200 "$reader" /v1/entities/change/CHG-101/trail
[[ $(field '[.events[].seq] | map(tostring) | join(",")') == 1,2,3,4,5,6,7,8,9 ]] || fail "trail seq: $(field '[.events[].seq]')"
[[ $(field '[.events[].offset] | . == sort') == true ]] || fail "trail order"
[[ $(field '.events[0] | has("content_hash") and has("chain_hash") and has("producer") and has("recorded_at")') == true ]] ||
  fail "trail entry fields: $(field '.events[0]')"
[[ $(field '.events[0].producer') == admin-tool ]] || fail "producer $(field '.events[0].producer')"
expect 200 "$reader" /v1/actors/hans/trail
[[ $(field '[.events[].actor] | unique | join(",")') == hans ]] || fail "actor trail"
[[ $(field '.events | length') -ge 7 ]] || fail "hans did 7+ things"

# Findings filters and the timeline.
expect 200 "$reader" "/v1/findings?system=ESB"
[[ $(field '[.findings[].finding] | join(",")') == route_change_outside_window ]] || fail "findings ESB: $(cat "$WORK/body")"
expect 200 "$reader" "/v1/findings?finding=production_without_test_signoff"
[[ $(field '.findings | length') == 1 && $(field '.findings[0].entity') == change/CHG-102 ]] || fail "findings filter"
from=$(sed -n 30p "$WORK/demo.ndjson" | jq -r .occurred_at); to=$(sed -n 33p "$WORK/demo.ndjson" | jq -r .occurred_at)
expect 200 "$reader" "/v1/timeline?from=$from&to=$to"
[[ $(field '[.events[].type] | join(",")') == window.opened,route.activated,route.decommissioned,window.closed ]] ||
  fail "timeline: $(field '[.events[].type]')"
expect 400 "$reader" "/v1/timeline?from=$from"

# A record that is not an event, written with kcat: quarantined, the projector goes on.
printf 'this is not an event' | kcat -P -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0
bad=$((last + 1))
expect 200 "$reader" "/v1/findings?finding=undecodable_record&min_offset=$bad"
[[ $(field '.findings[0].offset') == "$bad" ]] || fail "undecodable_record: $(cat "$WORK/body")"
expect 200 "" /v1/health
[[ $(field .status) == ok && $(field .projector.state) == running ]] || fail "health: $(cat "$WORK/body")"
[[ $(field .projector.applied_offset) == "$bad" ]] || fail "health applied_offset $(field .projector.applied_offset)"
wait "$wait_504" || fail "min_offset beyond the log must answer 504"

# Metrics in Prometheus text.
curl -s "$LEDGER_URL/metrics" >"$WORK/metrics"
grep -q "^ledger_applied_offset $bad$" "$WORK/metrics" || fail "metrics: $(cat "$WORK/metrics")"
grep -q '^ledger_http_responses_total{status="200"}' "$WORK/metrics" || fail "metrics by status"
# Every sample's metric has its HELP and TYPE (a histogram's series by the histogram's name).
untyped=$(awk '/^# TYPE / { typed[$3] = 1; next } /^#/ { next }
  { name = $1; sub(/\{.*/, "", name); base = name; sub(/_(bucket|sum|count)$/, "", base)
    if (!(name in typed) && !(base in typed)) print name }' "$WORK/metrics" | sort -u)
[[ -z $untyped ]] || fail "metrics without a TYPE line: $untyped"
[[ $(grep -c '^# HELP ' "$WORK/metrics") == $(grep -c '^# TYPE ' "$WORK/metrics") ]] || fail "metrics: HELP and TYPE lines differ in number"
# Every answer so far timed: the histogram counts as many requests as the responses by status
# (less the /metrics request itself, answered after its text was made).
answered=$(awk -F' ' '/^ledger_http_responses_total/ {n += $2} END {print n}' "$WORK/metrics")
timed=$(awk '/^ledger_http_request_duration_seconds_count/ {print $2}' "$WORK/metrics")
[[ -n $timed && $timed -gt 0 && $timed == "$answered" ]] ||
  fail "request durations: $timed timed, $answered answered: $(grep request_duration "$WORK/metrics")"
grep -Eq '^ledger_projector_seconds_total\{part="writing"\} ([1-9]|0\.0*[1-9])' "$WORK/metrics" ||
  fail "metrics: the projector's writing time: $(grep projector_seconds "$WORK/metrics")"

# verify: clean.
expect 200 "$admin" /v1/verify
[[ $(field '.problems | length') == 0 && $(field .verified_through_offset) == "$bad" ]] || fail "verify: $(cat "$WORK/body")"
expect 403 "$reader" /v1/verify

# A second projector on the same directory is refused.
set +e
"$LEDGER_BIN" project "${args[@]}" >"$WORK/second.out" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "another projector" "$WORK/second.out" || fail "second projector: rc $rc $(cat "$WORK/second.out")"

# CLI reads through the API.
"$LEDGER_BIN" status change/CHG-102 --url "$LEDGER_URL" --token "$reader" | grep -q "in_production" || fail "ledger status --url"
"$LEDGER_BIN" findings --url "$LEDGER_URL" --token "$reader" --json | jq -e '.findings | length == 4' >/dev/null ||
  fail "ledger findings --url --json"

# Replay to an offset and to a time; query the replayed directory. One more event is recorded
# after `mid`: a replay until mid has every record but it, and the full replay has it too.
mid=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.2
printf '{"id":"d0000000-0000-4000-8000-00000000f001","type":"change.requested","entity":"change/CHG-900","system":"AGRESSO","actor":"kari","occurred_at":"%s","data":{"title":"After mid","category":"patch","description":"recorded after mid"}}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$WORK/late.ndjson"
"$LEDGER_BIN" emit "$WORK/late.ndjson" --url "$LEDGER_URL" --token "$admin" --json >/dev/null 2>&1 || fail "emit after mid"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/mid" --until "$mid" --json >"$WORK/body"
[[ $(field .records) == $((bad + 1)) && $(field .applied_offset) == "$bad" ]] ||
  fail "replay --until $mid: every record up to $bad, got $(cat "$WORK/body")"
set +e; "$LEDGER_BIN" status change/CHG-900 --data "$WORK/mid" >/dev/null 2>&1; rc=$?; set -e
[[ $rc == 1 ]] || fail "an event recorded after --until is in the replay (status exit $rc)"
# Where the replay's time went: the reading thread's parts add up to no more than the replay,
# nor does the writer's; records were written, so the writer took some time, and the process CPU.
jq -e '([.reading_seconds, .decoding_seconds, .waiting_for_writer_seconds, .writing_seconds, .flushing_seconds] | all(type == "number" and . >= 0))
       and (.reading_seconds + .decoding_seconds + .waiting_for_writer_seconds <= .seconds)
       and .writing_seconds > 0 and .writing_seconds <= .seconds and .flushing_seconds <= .seconds
       and .cpu_user_seconds > 0 and .cpu_system_seconds >= 0' "$WORK/body" >/dev/null ||
  fail "replay --json: where the time went: $(cat "$WORK/body")"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/r14" --offset 13 --quiet
"$LEDGER_BIN" status change/CHG-101 --data "$WORK/r14" --json >"$WORK/body"
[[ $(field .state) == approved ]] || fail "replay --offset 13: $(cat "$WORK/body")"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/full" --quiet
"$LEDGER_BIN" status change/CHG-900 --data "$WORK/full" --json >"$WORK/body"
[[ $(field .state) == requested ]] || fail "full replay has the last event: $(cat "$WORK/body")"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/until" --until 2000-01-01T00:00:00Z --json >"$WORK/body"
[[ $(field .records) == 0 ]] || fail "replay --until before anything: $(cat "$WORK/body")"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/now" --until "$(date -u +%Y-%m-%dT%H:%M:%SZ -d '+1 min')" --quiet
set +e; "$LEDGER_BIN" status change/CHG-101 --data "$WORK/until" >/dev/null 2>&1; rc=$?; set -e
[[ $rc == 1 ]] || fail "status of an entity not in a replay exits 1, got $rc"

# Two rebuilds of the same log, and the live read models, have one digest.
kill -TERM "$LEDGER_PID"; wait "$LEDGER_PID" || true; LEDGER_PID=""
d_live=$("$LEDGER_BIN" digest --data "$WORK/data")
d_full=$("$LEDGER_BIN" digest --data "$WORK/full")
d_now=$("$LEDGER_BIN" digest --data "$WORK/now")
[[ $d_live == "$d_full" && $d_full == "$d_now" ]] || fail "digests differ: $d_live $d_full $d_now"
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" >"$WORK/v.out" 2>&1 ||
  fail "verify of the live directory: $(cat "$WORK/v.out")"

# An edited read model: change a state in place (same length), verify names the offset.
cp -r "$WORK/full" "$WORK/edited"
edit_read_model "$WORK/edited" entities in_production in_productioX
rc=$(verify_json "$name" "$WORK/edited")
[[ $rc == 1 ]] || fail "verify of an edited read model must exit 1, got $rc: $(cat "$WORK/body")"
[[ $(field '.problems[0].problem') == *"entities was edited"* && $(field '.problems[0].offset') == 24 ]] ||
  fail "edited read model: $(cat "$WORK/body")"

# An altered copy of the ledger: the topic deleted and written again with one record changed.
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o beginning -e -q -D $'\x1e' -K $'\x1f' >"$WORK/log.raw"
kafka_topics --delete --topic "$topic" >/dev/null 2>&1
for _ in $(seq 1 50); do kafka_topics --list 2>/dev/null | grep -qx "$topic" || break; sleep 0.2; done
kafka_topics --create --topic "$topic" --partitions 1 --replication-factor 1 >/dev/null 2>&1
sed 's/"version":"2.1.0"/"version":"2.1.1"/' "$WORK/log.raw" |
  kcat -P -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -D $'\x1e' -K $'\x1f'
set +e
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/full" --json >"$WORK/body" 2>/dev/null
rc=$?
set -e
[[ $rc == 1 ]] || fail "verify of an altered ledger must exit 1, got $rc: $(cat "$WORK/body")"
first=$(field '[.problems[] | select(.offset >= 0)][0].offset')
[[ $first == 23 ]] || fail "the first altered offset is 23 (CHG-102's test deployment): $(cat "$WORK/body")"
echo "projection: ok"
