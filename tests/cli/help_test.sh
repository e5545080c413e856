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

for cmd in breaches obligations; do
  out=$("$LEDGER_BIN" "$cmd" --help) || fail "ledger $cmd --help exited $?"
  for flag in --as-of --system --obligation --since --until --json --data --url; do
    grep -q -- "$flag" <<<"$out" || fail "ledger $cmd --help does not document $flag"
  done
done
"$LEDGER_BIN" breaches --help | grep -q -- '--format' || fail "ledger breaches --help does not document --format (csv)"
"$LEDGER_BIN" obligations --help | grep -q -- '--state' || fail "ledger obligations --help does not document --state"
out=$("$LEDGER_BIN" availability --help) || fail "ledger availability --help exited $?"
grep -q 'SERVICE\|service' <<<"$out" && grep -q -- '--as-of' <<<"$out" || fail "ledger availability --help: $out"
"$LEDGER_BIN" replay --help | grep -q -- '--policy' || fail "ledger replay --help does not document --policy"

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
"$LEDGER_BIN" availability altinn 2026-3 --data "$WORK" >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && grep -q "month" "$WORK/err" || fail "availability with a bad month: exit $rc $(cat "$WORK/err")"
"$LEDGER_BIN" obligations --state late --data "$WORK" >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && grep -q -- "--state" "$WORK/err" || fail "obligations --state late: exit $rc $(cat "$WORK/err")"
# One CLI: --url (or LEDGER_URL) without a token says which flag or variable to set; --url and
# --data together are refused; a bogus --finding is refused as the API refuses it.
env -u LEDGER_TOKEN "$LEDGER_BIN" findings --url http://127.0.0.1:1 >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && grep -q -- '--token' "$WORK/err" && grep -q LEDGER_TOKEN "$WORK/err" ||
  fail "--url without a token: exit $rc $(cat "$WORK/err")"
env -u LEDGER_TOKEN LEDGER_URL=http://127.0.0.1:1 "$LEDGER_BIN" status change/C1 >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && grep -q LEDGER_TOKEN "$WORK/err" || fail "LEDGER_URL without a token: exit $rc $(cat "$WORK/err")"
"$LEDGER_BIN" findings --url http://127.0.0.1:1 --token x --data "$WORK" >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && grep -q 'not both' "$WORK/err" || fail "--url with --data: exit $rc $(cat "$WORK/err")"
"$LEDGER_BIN" findings --finding bogus --data "$WORK" >/dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && grep -q -- '--finding' "$WORK/err" || fail "findings --finding bogus: exit $rc $(cat "$WORK/err")"
# Every ops script explains itself on --help and does nothing else (no install, no build, no broker).
for script in install build run test fuzz demo/load kafka/start kafka/stop kafka/cluster; do
  out=$(timeout 20 "$LEDGER_SOURCE_DIR/ops/$script" --help 2>&1); rc=$?
  [[ $rc == 0 && -n $out ]] || fail "ops/$script --help: exit $rc: $out"
  grep -q '^\[ops\]\|^\[kafka\]\|error' <<<"$out" && fail "ops/$script --help did more than explain: $out"
done
set -e
echo "ok: help and usage"
