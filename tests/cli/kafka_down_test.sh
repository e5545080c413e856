#!/usr/bin/env bash
# Kafka down: /v1/health and /metrics say so (kafka unavailable, 503); requests get 503 within the
# request deadline and nothing is acknowledged; when the
# broker is back, the same gateway process serves again, and a retry of the failed id is
# recorded at most once.
source "$(dirname "$0")/lib.sh"
source "$LEDGER_SOURCE_DIR/ops/lib.sh"

port=$(free_port_pair 23092) || fail "no free port"
broker=(env KAFKA_PORT="$port" KAFKA_DIR="$WORK/kafka")
"${broker[@]}" "$LEDGER_SOURCE_DIR/ops/kafka/start" 2>"$WORK/kafka.log" || { cat "$WORK/kafka.log" >&2; fail "broker start"; }
stop_broker() { "${broker[@]}" "$LEDGER_SOURCE_DIR/ops/kafka/stop" >/dev/null 2>&1 || true; }
trap 'stop_broker; cleanup' EXIT

secret=$(openssl rand -hex 16)
printf '[[token]]\nname = "t"\nsha256 = "%s"\nscopes = ["admin"]\n' "$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1)" \
  >"$WORK/tokens.toml"
name=$(unique down)
start_ledger --brokers "127.0.0.1:$port" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --tokens "$WORK/tokens.toml"

event() {
  printf '{"id":"%s","type":"incident.reported","entity":"incident/INC-9","system":"ALTINN","actor":"hd","occurred_at":"2026-03-02T10:15:00+01:00","data":{"category":"B","service":"formidling","summary":"Timeouts"}}' "$1"
}
post() { curl -s -m 60 -o "$WORK/body" -w '%{http_code}' -X POST "$LEDGER_URL/v1/events" -H "Authorization: Bearer $secret" --data-binary "$(event "$1")"; }

id1=$(cat /proc/sys/kernel/random/uuid)
[[ $(post "$id1") == 201 ]] || fail "with Kafka up: $(cat "$WORK/body")"
health() { curl -s -m 10 -o "$WORK/health" -w '%{http_code}' "$LEDGER_URL/v1/health"; }
[[ $(health) == 200 && $(jq -r '"\(.status) \(.kafka.state)"' "$WORK/health") == "ok ok" ]] ||
  fail "health with Kafka up: $(cat "$WORK/health")"

stop_broker
# Health tells the truth: not ok while a write would fail, Kafka named as the part that is down.
for _ in $(seq 1 100); do
  [[ $(health) == 503 ]] && break
  sleep 0.1
done
[[ $(health) == 503 && $(jq -r '"\(.status) \(.kafka.state)"' "$WORK/health") == "unavailable unavailable" ]] ||
  fail "health with Kafka down: $(cat "$WORK/health")"
curl -s -m 10 "$LEDGER_URL/metrics" >"$WORK/metrics"
grep -qx 'ledger_health_ok{part="kafka"} 0' "$WORK/metrics" && grep -qx 'ledger_health_ok{part="all"} 0' "$WORK/metrics" ||
  fail "metrics with Kafka down: $(grep health "$WORK/metrics")"
id2=$(cat /proc/sys/kernel/random/uuid)
started=$SECONDS
code=$(post "$id2")
elapsed=$((SECONDS - started))
[[ $code == 503 ]] || fail "with Kafka down: $code $(cat "$WORK/body"), want 503"
((elapsed < 30)) || fail "503 came after ${elapsed}s, beyond the 30 s request deadline"
jq -e '(.error | test("not acknowledged")) and (.error | test("same id")) and .retry_with_same_id and
       (.outcome == "unknown" or .outcome == "not_written")' "$WORK/body" >/dev/null || fail "503 body: $(cat "$WORK/body")"
echo "503 after ${elapsed}s" >&2

"${broker[@]}" "$LEDGER_SOURCE_DIR/ops/kafka/start" 2>>"$WORK/kafka.log" || fail "broker restart"
kill -0 "$LEDGER_PID" || fail "the gateway died while Kafka was down"
# The same process serves again (retrying while it reconnects).
code=""
for i in $(seq 1 30); do
  code=$(post "$id2")
  [[ $code == 201 || $code == 200 ]] && break
  sleep 1
done
[[ $code == 201 || $code == 200 ]] || fail "after Kafka came back: $code $(cat "$WORK/body")"
# A checkpoint signed while Kafka was down is published once it is back (its attempt times out
# first, after up to 30 s): then every part is ok again.
for _ in $(seq 1 450); do
  [[ $(health) == 200 && $(jq -r .status "$WORK/health") == ok ]] && break
  sleep 0.1
done
[[ $(jq -r '"\(.status) \(.kafka.state) \(.checkpoints.state)"' "$WORK/health") =~ ^"ok ok "(ok|none_yet)$ ]] ||
  fail "health once Kafka is back: $(cat "$WORK/health")"
id3=$(cat /proc/sys/kernel/random/uuid)
[[ $(post "$id3") == 201 ]] || fail "a new event after Kafka came back: $(cat "$WORK/body")"
kcat -C -b "127.0.0.1:$port" -t "ledger.$name" -p 0 -o beginning -e -q -f '%k\n' >"$WORK/keys"
[[ $(grep -c "^$id2$" "$WORK/keys") == 1 ]] || fail "the retried event is $(grep -c "^$id2$" "$WORK/keys") times in Kafka"
[[ $(grep -c "^$id1$" "$WORK/keys") == 1 ]] || fail "the first event is not in Kafka once"
# librdkafka's complaints while the broker was down are logged once each, not once per client or
# per retry (the rest go to debug level).
repeats=$(grep -E ' warning kafka' "$WORK/run.log" | sed -E 's/^[^ ]+ //; s/\(after [^)]*\)//; s/[0-9]+ms//g' | sort | uniq -d)
[[ -z $repeats ]] || fail "Kafka warnings repeated: $repeats"
grep -q 'kafka FAIL' "$WORK/run.log" && fail "a connection failure was logged twice (as a FAIL log and an error)"
echo "ok: Kafka down gives 503 in ${elapsed}s; the gateway recovers without a restart"
