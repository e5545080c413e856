#!/usr/bin/env bash
# `ledger --help` explains; bad usage exits 2 with a message.
source "$(dirname "$0")/lib.sh"

out=$("$LEDGER_BIN" --help) || fail "ledger --help exited $?"
grep -q 'Audit Ledger' <<<"$out" || fail "--help does not say what the ledger is"
grep -q 'run' <<<"$out" || fail "--help does not list 'run'"

out=$("$LEDGER_BIN" run --help) || fail "ledger run --help exited $?"
for flag in --brokers --ledger --data --listen --tokens --policy; do
  grep -q -- "$flag" <<<"$out" || fail "ledger run --help does not document $flag"
done
grep -q 'LEDGER_BROKERS' <<<"$out" || fail "ledger run --help does not name the LEDGER_BROKERS variable"

"$LEDGER_BIN" --version | grep -q '^ledger ' || fail "--version"

set +e
"$LEDGER_BIN" >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] || fail "no subcommand: exit $rc, want 2"
"$LEDGER_BIN" frobnicate >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] || fail "unknown subcommand: exit $rc, want 2"
"$LEDGER_BIN" run --ledger 'bad.name' --brokers 127.0.0.1:1 >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] || fail "invalid ledger name: exit $rc, want 2"
grep -q -- '--ledger' "$WORK/err" || fail "the error does not name --ledger: $(cat "$WORK/err")"
"$LEDGER_BIN" run --log-level loud >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] || fail "invalid --log-level: exit $rc, want 2"
set -e
echo "ok: help and usage"
