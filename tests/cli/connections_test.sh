#!/usr/bin/env bash
# One client cannot lock everyone out, through the HTTP API: a client address holding more idle
# sockets than its limit gets 503 naming the limit for the rest, every other client (health
# included) is answered at once, and a connection that sends nothing is closed after the header
# deadline (10 s) instead of being kept for the idle timeout.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique conn)
write_tokens
start_ledger --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" \
  --tokens "$WORK/tokens.toml" --max-connections-per-client 20
port=${LEDGER_URL##*:}

# 40 idle sockets from 127.0.0.2 (another client address on the loopback): 20 are held, 20 refused.
python3 - "$port" >"$WORK/idle.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks, refused = [], 0
for _ in range(40):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    socks.append(s)
time.sleep(1.0)
held = []
for s in socks:
    s.settimeout(0.2)
    try:
        data = s.recv(4096)
        if data.startswith(b"HTTP/1.1 503") and b"per client" in data:
            refused += 1
        else:
            held.append(s)
    except socket.timeout:
        held.append(s)
print("refused", refused, "held", len(held), flush=True)
# The held ones are closed by the server once the header deadline passes.
start = time.time()
closed = 0
for s in held:
    s.settimeout(max(0.1, 15 - (time.time() - start)))
    try:
        if s.recv(4096) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        pass
print("closed", closed, "after", round(time.time() - start), flush=True)
PY
idle=$!
for _ in $(seq 1 200); do grep -q '^refused' "$WORK/idle.out" && break; sleep 0.1; done
grep -q '^refused 20 held 20$' "$WORK/idle.out" || fail "per-client limit: $(cat "$WORK/idle.out")"
# Everyone else is answered while that client holds its 20.
started=$(date +%s%N)
code=$(curl -s -m 5 --interface 127.0.0.1 -o "$WORK/health" -w '%{http_code}' "$LEDGER_URL/v1/health")
[[ $code == 200 ]] || fail "health from another client while one holds its limit: $code"
code=$(curl -s -m 5 --interface 127.0.0.1 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/findings")
[[ $code == 200 ]] || fail "a read from another client: $code"
(( ($(date +%s%N) - started) / 1000000 < 2000 )) || fail "the other client waited"
wait "$idle"
grep -q '^closed 20 after' "$WORK/idle.out" || fail "idle connections not closed at the header deadline: $(cat "$WORK/idle.out")"
after=$(sed -n 's/^closed 20 after \([0-9]*\)$/\1/p' "$WORK/idle.out")
(( after <= 12 )) || fail "idle connections closed after ${after}s, not at the 10 s header deadline"
curl -s "$LEDGER_URL/metrics" | grep -qx 'ledger_http_connections_refused_total{reason="per_client"} 20' ||
  fail "metrics: $(curl -s "$LEDGER_URL/metrics" | grep connections)"
stop_ledger
echo "connections: ok"
