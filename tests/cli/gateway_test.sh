#!/usr/bin/env bash
# The ingest gateway through its HTTP API (interface.md): every status code, idempotency
# (sequential, concurrent, across a restart, and across a crash between Kafka's acknowledgement
# and the HTTP answer), the Kafka record of domain.md 4, batches and `ledger emit`.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique gw)
topic="ledger.$name"
write_tokens
admin=$ADMIN agresso=$AGRESSO reader=$READER

args=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --tokens "$WORK/tokens.toml")
start_ledger "${args[@]}"

uuid() { cat /proc/sys/kernel/random/uuid; }
event() {  # event ID [SYSTEM] [VERSION]
  printf '{"id":"%s","type":"change.deployed","entity":"change/CHG-17","system":"%s","actor":"ola","occurred_at":"2026-03-02T10:15:00+01:00","data":{"environment":"test","artifact":{"name":"agresso","version":"%s","digest":"sha256:%s"}}}' \
    "$1" "${2:-AGRESSO}" "${3:-5.7.1}" "$(printf 'ab%.0s' {1..32})"
}
post() {  # post TOKEN BODY → prints "status body"
  local out code
  out=$(curl -s -m 40 -o "$WORK/body" -w '%{http_code}' -X POST "$LEDGER_URL/v1/events" \
    ${1:+-H "Authorization: Bearer $1"} -H 'Content-Type: application/json' --data-binary "$2")
  code=$out
  echo "$code $(cat "$WORK/body")"
}
expect() {  # expect WANT_STATUS "status body" [jq-check]
  local got=${2%% *} body=${2#* }
  [[ $got == "$1" ]] || fail "want $1, got $got: $body"
  if [[ -n ${3:-} ]]; then jq -e "$3" <<<"$body" >/dev/null || fail "body check '$3' failed: $body"; fi
}

# 201, then 200 with the same coordinates, then 409.
id=$(uuid)
r=$(post "$agresso" "$(event "$id")")
expect 201 "$r" '.id and .topic and (.partition == 0) and (.offset >= 0) and .recorded_at'
first=${r#* }
offset=$(jq -r .offset <<<"$first")
r=$(post "$agresso" "$(event "$id")")
expect 200 "$r"
[[ $(jq -c '[.offset,.recorded_at,.topic]' <<<"${r#* }") == "$(jq -c '[.offset,.recorded_at,.topic]' <<<"$first")" ]] ||
  fail "duplicate answered other coordinates: ${r#* } vs $first"
# Identical content in another key order and spacing is still identical.
reordered=$(jq -S . <<<"$(event "$id")")
expect 200 "$(post "$agresso" "$reordered")"
expect 409 "$(post "$agresso" "$(event "$id" AGRESSO 5.7.2)")" '.field == "id"'

# The Kafka record: canonical JSON of the posted fields plus producer and recorded_at, key = id.
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o "$offset" -c 1 -e -q -f '%k\t%s\n' >"$WORK/record"
[[ $(cut -f1 "$WORK/record") == "$id" ]] || fail "record key is not the event id"
record=$(cut -f2- "$WORK/record")
jq -e --arg t "$(jq -r .recorded_at <<<"$first")" '.producer == "agresso-ci" and .recorded_at == $t and .occurred_at == "2026-03-02T10:15:00+01:00"' \
  <<<"$record" >/dev/null || fail "record fields: $record"
[[ "$record" == "$(jq -cS . <<<"$record")" ]] || fail "record is not canonical (sorted, compact): $record"

# Refusals.
expect 400 "$(post "$agresso" '{"id": ')" '.error'
expect 422 "$(post "$agresso" "$(event "$(uuid)" | jq -c '.data.environment = "staging"')")" '.field == "data.environment"'
expect 422 "$(post "$agresso" "$(event "$(uuid)" | jq -c 'del(.occurred_at)')")" '.field == "occurred_at"'
expect 422 "$(post "$agresso" "$(event "$(uuid)" | jq -c '.occurred_at = "2026-03-02T10:15:00"')")" '.field == "occurred_at"'
expect 422 "$(post "$agresso" "$(event "$(uuid)" | jq -c '.entity = "key/K-1"')")" '.field == "entity"'
expect 422 "$(post "$agresso" "$(event "$(uuid)" | jq -c '.occurred_at = "2099-01-01T00:00:00Z"')")" '.field == "occurred_at"'
expect 401 "$(post "" "$(event "$(uuid)")")"
expect 401 "$(post "not-a-token" "$(event "$(uuid)")")"
expect 403 "$(post "$reader" "$(event "$(uuid)")")"
expect 403 "$(post "$agresso" "$(event "$(uuid)" ALTINN)")" '.field == "system"'
expect 201 "$(post "$admin" "$(event "$(uuid)" ALTINN)")"
big=$(event "$(uuid)" | jq -c --arg pad "$(head -c 70000 /dev/zero | tr '\0' x)" '.data.artifact.name = $pad')
expect 413 "$(post "$agresso" "$big")"
code=$(curl -s -m 40 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$LEDGER_URL/v1/health")
[[ $code == 431 ]] || fail "a 9000-byte header answered $code, want 431"
# Both Content-Length and Transfer-Encoding: refused.
hostport=${LEDGER_URL#http://}
resp=$(printf 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' |
  timeout 5 bash -c "exec 3<>/dev/tcp/${hostport%:*}/${hostport#*:}; cat >&3; head -1 <&3")
[[ $resp == *" 400 "* ]] || fail "Content-Length with Transfer-Encoding answered: $resp"

# Concurrent duplicates: one 201, the rest 200, all with the same offset.
cid=$(uuid)
body=$(event "$cid")
pids=()
for i in $(seq 1 16); do
  (curl -s -m 40 -o "$WORK/c$i" -w '%{http_code}\n' -X POST "$LEDGER_URL/v1/events" -H "Authorization: Bearer $agresso" --data-binary "$body" >"$WORK/s$i") &
  pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: the ledger runs in the background too
[[ $(cat "$WORK"/s* | grep -c '^201$') == 1 ]] || fail "concurrent duplicates: $(cat "$WORK"/s* | sort | uniq -c)"
[[ $(cat "$WORK"/s* | grep -c '^200$') == 15 ]] || fail "concurrent duplicates: $(cat "$WORK"/s* | sort | uniq -c)"
[[ $(jq -s 'map(.offset) | unique | length' "$WORK"/c*) == 1 ]] || fail "concurrent duplicates got different offsets"
rm -f "$WORK"/c* "$WORK"/s*

# Batch: one result per line, in order, NDJSON by default, {"results": [...]} on Accept: application/json.
bid=$(uuid)
printf '%s\n%s\n\n%s\n' "$(event "$bid")" '{"id":"x"}' "$(event "$bid")" >"$WORK/batch.ndjson"
curl -s -m 40 -o "$WORK/batch.out" -w '%{http_code}' -X POST "$LEDGER_URL/v1/events/batch" -H "Authorization: Bearer $agresso" \
  --data-binary @"$WORK/batch.ndjson" >"$WORK/code"
[[ $(cat "$WORK/code") == 200 ]] || fail "batch answered $(cat "$WORK/code")"
[[ $(jq -sc 'map([.line,.status])' "$WORK/batch.out") == '[[1,201],[2,422],[4,200]]' ]] ||
  fail "batch results: $(cat "$WORK/batch.out")"
curl -s -m 40 -H 'Accept: application/json' -X POST "$LEDGER_URL/v1/events/batch" -H "Authorization: Bearer $agresso" \
  --data-binary @"$WORK/batch.ndjson" | jq -e '.results | map(.status) == [200,422,200]' >/dev/null ||
  fail "batch as JSON"

# A batch over 64 KiB is fine (the limit is 16 MiB); one over 16 MiB gets 413.
for i in $(seq 1 300); do event "$(uuid)"; echo; done >"$WORK/big.ndjson"
(( $(wc -c <"$WORK/big.ndjson") > 65536 )) || fail "test batch too small"
code=$(curl -s -m 60 -o "$WORK/big.out" -w '%{http_code}' -X POST "$LEDGER_URL/v1/events/batch" \
  -H "Authorization: Bearer $agresso" --data-binary @"$WORK/big.ndjson")
[[ $code == 200 ]] || fail "a 300-event batch answered $code"
[[ $(grep -c '"status":201' "$WORK/big.out") == 300 ]] || fail "a 300-event batch: $(head -c 300 "$WORK/big.out")"
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/huge.ndjson"
code=$(curl -s -m 60 -o /dev/null -w '%{http_code}' -X POST "$LEDGER_URL/v1/events/batch" \
  -H "Authorization: Bearer $agresso" --data-binary @"$WORK/huge.ndjson")
[[ $code == 413 ]] || fail "a 17 MiB batch answered $code, want 413"

# A restart: the retry gets the original coordinates.
kill -TERM "$LEDGER_PID"; wait "$LEDGER_PID" || fail "gateway did not stop cleanly"
start_ledger "${args[@]}"
r=$(post "$agresso" "$(event "$id")")
expect 200 "$r"
[[ $(jq .offset <<<"${r#* }") == "$offset" ]] || fail "after restart: offset $(jq .offset <<<"${r#* }"), want $offset"
kill -TERM "$LEDGER_PID"; wait "$LEDGER_PID"

# A crash between Kafka's acknowledgement and the HTTP answer: the client sees no answer; its
# retry after the restart gets 200 with the coordinates of the record that is in Kafka, once.
LEDGER_FAULT=exit_after_ack start_ledger "${args[@]}"
xid=$(uuid)
code=$(curl -s -m 40 -o /dev/null -w '%{http_code}' -X POST "$LEDGER_URL/v1/events" -H "Authorization: Bearer $agresso" \
  --data-binary "$(event "$xid")" || true)
[[ $code == 000 ]] || fail "the crashing gateway answered $code"
set +e; wait "$LEDGER_PID"; rc=$?; set -e
[[ $rc == 86 ]] || fail "the fault-injected gateway exited $rc, want 86"
start_ledger "${args[@]}"
r=$(post "$agresso" "$(event "$xid")")
expect 200 "$r"
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o beginning -e -q -f '%k %o\n' >"$WORK/keys"
[[ $(grep -c "^$xid " "$WORK/keys") == 1 ]] || fail "event $xid is $(grep -c "^$xid " "$WORK/keys") times in Kafka"
[[ $(grep "^$xid " "$WORK/keys" | cut -d' ' -f2) == "$(jq .offset <<<"${r#* }")" ]] || fail "retry got other coordinates"
[[ $(grep -c "^$id " "$WORK/keys") == 1 ]] || fail "event $id is in Kafka more than once"
[[ $(grep -c "^$cid " "$WORK/keys") == 1 ]] || fail "event $cid is in Kafka more than once"

# ledger emit through the gateway: accepted, duplicate and rejected lines, with a summary.
{ event "$(uuid)"; printf '\n\n'; event "$(uuid)"; echo; event "$id"; echo; echo '{"type":"change.deployed"}'; } >"$WORK/emit.ndjson"
set +e
"$LEDGER_BIN" emit "$WORK/emit.ndjson" --url "$LEDGER_URL" --token "$agresso" --json >"$WORK/emit.json" 2>"$WORK/emit.err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "emit with a rejected line exited $rc, want 1"
jq -e '.lines == 4 and .accepted == 2 and .duplicate == 1 and .rejected == 1' "$WORK/emit.json" >/dev/null ||
  fail "emit summary: $(cat "$WORK/emit.json")"
grep -q '^line 5: 422' "$WORK/emit.err" || fail "emit does not name the rejected line: $(cat "$WORK/emit.err")"
[[ $(grep -c '^emit: ' "$WORK/emit.err") == 1 ]] || fail "the emit summary is not printed once: $(cat "$WORK/emit.err")"
kill -TERM "$LEDGER_PID"; wait "$LEDGER_PID"

# ledger emit straight to Kafka, as producer "loader"; the same idempotency.
{ event "$(uuid)"; echo; event "$id"; echo; } >"$WORK/direct.ndjson"
"$LEDGER_BIN" emit "$WORK/direct.ndjson" --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --producer loader --json -q \
  >"$WORK/direct.json" || fail "emit to Kafka failed"
jq -e '.accepted == 1 and .duplicate == 1' "$WORK/direct.json" >/dev/null || fail "direct emit: $(cat "$WORK/direct.json")"
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o -1 -c 1 -e -q | jq -e '.producer == "loader"' >/dev/null ||
  fail "the direct record does not name producer loader"
# Every byte counts. A valid event followed by a NUL and junk is refused, nothing written.
nul_id=$(uuid)
{ event "$nul_id"; printf '\0junk'; } >"$WORK/nul.body"
start_ledger "${args[@]}"
# A dry run for supplier tools: the same answers, nothing written.
post_q() {  # post_q QUERY BODY → prints "status body"
  local code
  code=$(curl -s -m 40 -o "$WORK/body" -w '%{http_code}' -X POST "$LEDGER_URL/v1/events$1" -H "Authorization: Bearer $admin" \
    --data-binary "$2")
  echo "$code $(cat "$WORK/body")"
}
dry=$(uuid)
expect 200 "$(post_q '?dry_run=true' "$(event "$dry")")" '.dry_run and .valid and .would == "create"'
expect 200 "$(post_q '?dry_run=true' "$(event "$id")")" '.dry_run and .offset >= 0'
expect 409 "$(post_q '?dry_run=true' "$(event "$id" AGRESSO 0.0.1)")"
expect 422 "$(post_q '?dry_run=true' '{"id":"x"}')"
expect 400 "$(post_q '?dryrun=true' "$(event "$dry")")" '.field == "dryrun"'
kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o beginning -e -q -f '%k\n' | grep -q "$dry" && fail "a dry run was written"
# ledger validate: the gateway's checks offline, each bad line named.
{ event "$(uuid)"; echo; echo '{"id":"x"}'; } >"$WORK/check.ndjson"
rc=0; "$LEDGER_BIN" validate "$WORK/check.ndjson" >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q '^line 2: 422' "$WORK/err" && grep -q '1 valid, 1 invalid' "$WORK/err" ||
  fail "ledger validate: $rc $(cat "$WORK/err")"
code=$(curl -s -m 40 -o "$WORK/body" -w '%{http_code}' -X POST "$LEDGER_URL/v1/events" -H "Authorization: Bearer $admin" \
  --data-binary "@$WORK/nul.body")
[[ $code == 400 ]] && grep -q 'NUL byte' "$WORK/body" || fail "a body with a NUL and junk: $code $(cat "$WORK/body")"
# Records written around the gateway: not canonical, backdated to 2020, an id reused with other
# content. Each gets a finding naming its offset.
around=$(uuid)
printf '{ "id": "%s", "type": "change.requested", "entity": "change/AROUND-1", "system": "AGRESSO", "actor": "ola", "occurred_at": "2020-01-01T10:00:00+01:00", "data": {"title": "t", "category": "patch", "description": "d"}, "producer": "agresso-ci", "recorded_at": "2020-01-01T09:01:00.000Z"}\n' "$around" |
  kcat -P -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0
event "$id" AGRESSO 9.9.9 | jq -c -S '. + {producer: "agresso-ci", recorded_at: (now | todate)}' |
  kcat -P -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0
last=$(kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o -1 -c 1 -e -q -f '%o\n')
code=$(curl -s -m 40 -o "$WORK/findings" -w '%{http_code}' -H "Authorization: Bearer $reader" "$LEDGER_URL/v1/findings?min_offset=$last")
[[ $code == 200 ]] || fail "findings: $code $(cat "$WORK/findings")"
record_level='select(.finding | IN("non_canonical_record", "recorded_at_mismatch", "conflicting_duplicate"))'
f_around=$(jq -r --argjson o $((last - 1)) "[.findings[] | select(.offset == \$o) | $record_level | .finding] | sort | join(\",\")" "$WORK/findings")
[[ $f_around == "non_canonical_record,recorded_at_mismatch" ]] ||
  fail "the record written around the gateway at $((last - 1)): '$f_around' $(cat "$WORK/findings")"
f_dup=$(jq -r --argjson o "$last" "[.findings[] | select(.offset == \$o) | $record_level | .finding] | join(\",\")" "$WORK/findings")
[[ $f_dup == conflicting_duplicate ]] || fail "the id reused with other content at $last: '$f_dup'"
# A canonical, timely record whose producer names no token: verify names it (and "loader", the
# direct emit's producer, which names no token either); records of the tokens pass.
event "$(uuid)" | jq -c -S '. + {producer: "intruder", recorded_at: (now | todate)}' |
  kcat -P -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0
intruder=$(kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic" -p 0 -o -1 -c 1 -e -q -f '%o\n')
code=$(curl -s -m 120 -o "$WORK/verify" -w '%{http_code}' -H "Authorization: Bearer $admin" "$LEDGER_URL/v1/verify?min_offset=$intruder")
[[ $code == 200 ]] || fail "verify: $code $(cat "$WORK/verify")"
jq -e --argjson o "$intruder" '.producers_checked_against != null and
    ([.problems[] | select(.offset == $o and (.problem | test("producer .intruder. names no token")))] | length == 1) and
    ([.problems[] | select(.problem | test("producer .loader. names no token"))] | length == 1) and
    ([.problems[] | select(.problem | test("producer .(agresso-ci|admin-tool). names"))] | length == 0)' "$WORK/verify" >/dev/null ||
  fail "verify does not name the producers that name no token: $(cat "$WORK/verify")"
kill -TERM "$LEDGER_PID"; wait "$LEDGER_PID"
# The same from the data directory with --tokens; without it, producers are not checked.
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" --tokens "$WORK/tokens.toml" \
  --json >"$WORK/verify" && fail "verify --tokens passed a log with records of no token"
jq -e '[.problems[] | select(.problem | test("names no token of .*tokens.toml"))] | length == 2' "$WORK/verify" >/dev/null ||
  fail "verify --tokens: $(cat "$WORK/verify")"
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" --json >"$WORK/verify" || true
jq -e '.producers_checked_against == null and ([.problems[] | select(.problem | test("names no token"))] | length == 0)' \
  "$WORK/verify" >/dev/null || fail "verify without --tokens: $(cat "$WORK/verify")"
echo "ok: gateway"
