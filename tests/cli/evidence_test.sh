#!/usr/bin/env bash
# Evidence anyone can check (domain.md 4), through interface.md against the real broker:
# checkpoints signed every 1,000 records, and of the head once the ledger is quiet, reach
# ledger.<name>.checkpoints and `ledger verify` checks them; `ledger export --format json` is
# checked with standard tools alone (sha256sum, xxd, openssl): the chain recomputed from the
# records to the signed checkpoint and its
# signature verified; `--format csv` has a row per record; records deleted from Kafka before
# the projector read them halt it, and /v1/health says it stalled.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique evid)
topic="ledger.$name"
write_tokens
"$LEDGER_SOURCE_DIR/bench/gen-events" 2500 "$(openssl rand -hex 4)" >"$WORK/events.ndjson"
"$LEDGER_BIN" emit "$WORK/events.ndjson" --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null
args=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --tokens "$WORK/tokens.toml")
start_ledger "${args[@]}"
code=$(curl -s -m 60 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" \
  "$LEDGER_URL/v1/entities/actor/admin?min_offset=2499")
[[ $code == 200 ]] || fail "the projector did not reach offset 2499: $code $(cat "$WORK/body")"

# Reads the checkpoint topic into $WORK/cps until CONDITION (jq, over the published offsets)
# holds, polling up to TRIES times 0.1 s apart; false if it never does.
await_checkpoints() {  # CONDITION TRIES
  for _ in $(seq 1 "$2"); do
    kcat -C -b "$LEDGER_TEST_BROKERS" -t "$topic.checkpoints" -p 0 -o beginning -e -q >"$WORK/cps" 2>/dev/null || true
    [[ $(jq -s "[.[].offset] | $1" "$WORK/cps" 2>/dev/null) == true ]] && return 0
    sleep 0.1
  done
  return 1
}
# The checkpoints at offsets 999 and 1999, published to the checkpoint topic.
await_checkpoints 'index(999) != null and index(1999) != null' 100 ||
  fail "checkpoints 999 and 1999 not in $topic.checkpoints: $(cat "$WORK/cps")"
# The last 500 events are covered too, though no event follows them: the quiet ledger signs the
# head 10 s (the checkpoint interval) after its start, once, and publishes it.
await_checkpoints 'index(2499) != null' 300 ||
  fail "no checkpoint of offset 2499 in $topic.checkpoints while the ledger is quiet: $(cat "$WORK/cps")"
[[ $(jq -s '[.[].offset] | . == unique' "$WORK/cps") == true ]] || fail "a checkpoint published twice: $(cat "$WORK/cps")"
[[ $(jq -s -r '[.[].public_key] | unique | join(",")' "$WORK/cps") == "$(head -1 "$WORK/data/ledger.key")" ]] ||
  fail "the published checkpoints are not signed with the data directory's ledger key"

# Verifies an Ed25519 signature with openssl alone: verify_sig PUBLIC_B64 SIGNATURE_B64 MESSAGE
verify_sig() {
  { printf '302a300506032b6570032100' | xxd -r -p; printf '%s' "$1" | base64 -d; } >"$WORK/pub.der"
  openssl pkey -pubin -inform DER -in "$WORK/pub.der" -out "$WORK/pub.pem" 2>/dev/null
  printf '%s' "$2" | base64 -d >"$WORK/sig"
  printf '%s' "$3" >"$WORK/msg"
  openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/msg" -sigfile "$WORK/sig" >/dev/null 2>&1
}
cp999=$(jq -s -c 'map(select(.offset == 999))[0]' "$WORK/cps")
message=$(jq -c -S '{chain_hash, ledger, offset}' <<<"$cp999")
verify_sig "$(jq -r .public_key <<<"$cp999")" "$(jq -r .signature <<<"$cp999")" "$message" ||
  fail "the published checkpoint's signature does not verify with openssl: $cp999"
verify_sig "$(jq -r .public_key <<<"$cp999")" "$(jq -r .signature <<<"$cp999")" "${message/999/998}" &&
  fail "openssl accepted a checkpoint signature for another offset"

# verify: clean, and it checked the checkpoints.
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" --json >"$WORK/verify" ||
  fail "verify reports problems: $(cat "$WORK/verify")"
[[ $(jq '.problems | length' "$WORK/verify") == 0 && $(jq .checkpoints_checked "$WORK/verify") -ge 3 ]] ||
  fail "verify: $(cat "$WORK/verify")"

# Export (json), checked with standard tools: each record's content hash and chain hash
# recomputed from its exact bytes, through offset 999, ending at the signed checkpoint's hash.
"$LEDGER_BIN" export --data "$WORK/data" --format json -o "$WORK/export.json"
[[ $(jq '.records | length' "$WORK/export.json") == 2500 ]] || fail "export has $(jq '.records | length' "$WORK/export.json") records"
[[ $(jq -r .ledger "$WORK/export.json") == "$topic" ]] || fail "export names ledger $(jq -r .ledger "$WORK/export.json")"
jq -r '.records[:1000][] | [.offset, .content_hash, .chain_hash, .record] | @tsv' "$WORK/export.json" >"$WORK/rows"
jq -r '.records[:1000][] | .record' "$WORK/export.json" >"$WORK/records"
prev=$(printf '0%.0s' $(seq 1 64))
n=0
while IFS=$'\t' read -r offset content chain _ && IFS= read -r record <&3; do
  [[ $offset == "$n" ]] || fail "export offset $offset where $n was expected"
  got=$(printf '%s' "$record" | sha256sum | cut -d' ' -f1)
  [[ $got == "$content" ]] || fail "offset $offset: sha256sum of the record is $got, the export says $content"
  got=$({ printf '%s%s%016x' "$prev" "$content" "$offset" | xxd -r -p; } | sha256sum | cut -d' ' -f1)
  [[ $got == "$chain" ]] || fail "offset $offset: recomputed chain hash $got, the export says $chain"
  prev=$chain
  n=$((n + 1))
done <"$WORK/rows" 3<"$WORK/records"
[[ $n == 1000 ]] || fail "checked $n records, not 1000"
cp=$(jq -c '.checkpoints[] | select(.offset == 999)' "$WORK/export.json")
[[ $(jq -r .chain_hash <<<"$cp") == "$prev" ]] || fail "checkpoint 999 says $(jq -r .chain_hash <<<"$cp"), the records give $prev"
[[ $(jq -r .message <<<"$cp") == "$(jq -c -S --arg l "$topic" '{chain_hash, ledger: $l, offset}' <<<"$cp")" ]] ||
  fail "checkpoint message: $cp"
verify_sig "$(jq -r .public_key <<<"$cp")" "$(jq -r .signature <<<"$cp")" "$(jq -r .message <<<"$cp")" ||
  fail "the exported checkpoint's signature does not verify with openssl"

# Export (csv): the header, then a row per record; the same through the HTTP API.
"$LEDGER_BIN" export --data "$WORK/data" --format csv >"$WORK/export.csv"
[[ $(head -1 "$WORK/export.csv" | tr -d '\r') == offset,kind,content_hash,chain_hash,id,type,entity,system,actor,occurred_at,recorded_at,producer,record ]] ||
  fail "csv header: $(head -1 "$WORK/export.csv")"
[[ $(wc -l <"$WORK/export.csv") == 2501 ]] || fail "csv has $(wc -l <"$WORK/export.csv") lines"
row=$(sed -n 2p "$WORK/export.csv")
[[ $row == 0,event,$(jq -r '.records[0].content_hash' "$WORK/export.json"),* ]] || fail "csv row 0: $row"
"$LEDGER_BIN" export --url "$LEDGER_URL" --token "$READER" --format csv >"$WORK/export-http.csv"
cmp -s "$WORK/export.csv" "$WORK/export-http.csv" || fail "the export through --url differs from the one from --data"
# Over HTTP the export streams (chunked, no Content-Length): the same bytes as from the directory.
curl -sf -D "$WORK/export.headers" -o "$WORK/export-http.json" -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/export"
grep -qi '^transfer-encoding: chunked' "$WORK/export.headers" || fail "GET /v1/export is not streamed: $(cat "$WORK/export.headers")"
grep -qi '^content-length' "$WORK/export.headers" && fail "GET /v1/export was built whole (Content-Length)"
cmp -s "$WORK/export.json" "$WORK/export-http.json" || fail "GET /v1/export differs from ledger export --data"
"$LEDGER_BIN" export --data "$WORK/data" --format xml >/dev/null 2>"$WORK/err" && fail "export --format xml was accepted"
grep -q -- '--format' "$WORK/err" || fail "the error does not name --format: $(cat "$WORK/err")"

# Records deleted from Kafka before the projector read them: it halts and says so.
stop_ledger
"$LEDGER_SOURCE_DIR/bench/gen-events" 100 "$(openssl rand -hex 4)" |
  "$LEDGER_BIN" emit - --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" -q 2>/dev/null
printf '{"partitions":[{"topic":"%s","partition":0,"offset":2550}],"version":1}' "$topic" >"$WORK/delete.json"
java -Xmx256m -Dlog4j2.configurationFile="$LEDGER_SOURCE_DIR/ops/kafka/tools-log4j2.xml" \
  -cp "$LEDGER_SOURCE_DIR/var/kafka/libs/*" org.apache.kafka.tools.DeleteRecordsCommand \
  --bootstrap-server "$LEDGER_TEST_BROKERS" --offset-json-file "$WORK/delete.json" >"$WORK/delete.out" 2>&1 ||
  fail "DeleteRecordsCommand: $(cat "$WORK/delete.out")"
start_ledger "${args[@]}"
for _ in $(seq 1 150); do
  code=$(curl -s -m 5 -o "$WORK/health" -w '%{http_code}' "$LEDGER_URL/v1/health")
  [[ $code == 503 ]] && break
  sleep 0.1
done
[[ $code == 503 && $(jq -r .status "$WORK/health") == stalled ]] || fail "health after deleted records: $code $(cat "$WORK/health")"
[[ $(jq -r .projector.error "$WORK/health") == *2500* ]] ||
  fail "the stall does not name the missing offset 2500: $(cat "$WORK/health")"
code=$(curl -s -m 10 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/entities/actor/admin")
[[ $code == 200 ]] || fail "reads stop when the projector stalls: $code"
stop_ledger
echo "evidence: ok"
