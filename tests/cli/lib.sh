# shellcheck shell=bash
# Helpers for the CLI tests: run by ctest with LEDGER_BIN and LEDGER_SOURCE_DIR set.
set -euo pipefail
# A command that fails outside `|| fail ...` ends the test: say which, instead of exiting silently.
set -E
trap 'rc=$?; [[ $- == *e* ]] && echo "FAIL: line $LINENO of $(basename "$0") exited $rc: $BASH_COMMAND" >&2' ERR
: "${LEDGER_BIN:?LEDGER_BIN must point at the ledger binary}"
: "${LEDGER_SOURCE_DIR:?LEDGER_SOURCE_DIR must point at the repository}"

fail() { echo "FAIL: $*" >&2; exit 1; }
need_brokers() {
  [[ -n ${LEDGER_TEST_BROKERS:-} ]] || fail "LEDGER_TEST_BROKERS is not set: run the suite through ./ops/test"
}
unique() { echo "$1-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }
WORK=$(mktemp -d)
LEDGER_PID=""
cleanup() {
  if [[ -n $LEDGER_PID ]] && kill -0 "$LEDGER_PID" 2>/dev/null; then
    kill -KILL "$LEDGER_PID" 2>/dev/null || true
    echo "--- ledger log (killed at exit) ---" >&2; tail -20 "$WORK/run.log" >&2 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Kafka's own topic tool, independent of the ledger's code.
kafka_topics() {
  java -Xmx256m -Dlog4j.configuration="file:$LEDGER_SOURCE_DIR/ops/kafka/tools-log4j.properties" \
    -cp "$LEDGER_SOURCE_DIR/var/kafka/libs/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$LEDGER_TEST_BROKERS" "$@"
}

# Starts `ledger run ARGS...` in the background with its log in $WORK/run.log; sets LEDGER_PID
# and LEDGER_URL once it serves.
start_ledger() {
  "$LEDGER_BIN" run "$@" >"$WORK/run.out" 2>"$WORK/run.log" &
  LEDGER_PID=$!
  local i
  for i in $(seq 1 300); do
    if LEDGER_URL=$(grep -o 'serving http://[0-9.:]*' "$WORK/run.log" 2>/dev/null | head -1 | cut -d' ' -f2) &&
       [[ -n $LEDGER_URL ]]; then
      return 0
    fi
    kill -0 "$LEDGER_PID" 2>/dev/null || { cat "$WORK/run.log" >&2; fail "ledger run exited during start-up"; }
    sleep 0.1
  done
  cat "$WORK/run.log" >&2
  fail "ledger run did not serve within 30 s"
}

# Writes $WORK/tokens.toml with three fresh tokens, their secrets in ADMIN ("admin-tool", scope
# admin), AGRESSO ("agresso-ci", produce:AGRESSO) and READER ("auditor", read).
write_tokens() {
  ADMIN=$(openssl rand -hex 16); AGRESSO=$(openssl rand -hex 16); READER=$(openssl rand -hex 16)
  h() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
  cat >"$WORK/tokens.toml" <<TOML
[[token]]
name = "admin-tool"
sha256 = "$(h "$ADMIN")"
scopes = ["admin"]
[[token]]
name = "agresso-ci"
sha256 = "$(h "$AGRESSO")"
scopes = ["produce:AGRESSO"]
[[token]]
name = "auditor"
sha256 = "$(h "$READER")"
scopes = ["read"]
TOML
}

# Stops the ledger started by start_ledger (SIGTERM, then waits for it to exit).
stop_ledger() {
  [[ -n $LEDGER_PID ]] || return 0
  kill -TERM "$LEDGER_PID" 2>/dev/null || true
  wait "$LEDGER_PID" 2>/dev/null || true
  LEDGER_PID=""
}
