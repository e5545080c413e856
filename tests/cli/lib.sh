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
  java -Xmx256m -Dlog4j2.configurationFile="$LEDGER_SOURCE_DIR/ops/kafka/tools-log4j2.xml" \
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

# edit_read_model DIR DB FROM TO: replaces the bytes FROM with TO (same length) in the values of
# one LMDB database of a stopped data directory. A hex dump, not -p: LMDB 0.9.24's mdb_load
# misreads a printable dump's "\\" before two hex digits, which some binary times contain.
edit_read_model() {
  local dir=$1 db=$2 hex_from hex_to
  hex_from=$(printf '%s' "$3" | xxd -p -c 256); hex_to=$(printf '%s' "$4" | xxd -p -c 256)
  mdb_dump -s "$db" "$dir" >"$WORK/$db.dump"
  grep -q "$hex_from" "$WORK/$db.dump" || fail "edit_read_model: '$3' is not in $db"
  sed -i "s/$hex_from/$hex_to/" "$WORK/$db.dump"
  mdb_load -s "$db" -f "$WORK/$db.dump" "$dir" 2>/dev/null
}

# verify_json LEDGER DIR: `ledger verify --json` of DIR into $WORK/body; prints its exit code.
verify_json() {
  local rc=0
  "$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$1" --data "$2" --json >"$WORK/body" 2>/dev/null || rc=$?
  echo "$rc"
}
