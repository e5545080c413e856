#!/usr/bin/env bash
# SLA obligations through interface.md against the real broker: events posted through the
# gateway, then /v1/breaches, /v1/obligations and entity status as of fixed times (every
# obligation met, breached or waived where it applies; recategorisation; a late maintenance
# notice; the report approved by default; the key rotation warning; the monthly reports), CSV
# for the monthly report, the CLI, and --policy: overrides, a bad file refused with the setting
# named, a data directory refusing another policy.
source "$(dirname "$0")/lib.sh"
need_brokers

name=$(unique sla)
write_tokens
args=(--brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --listen 127.0.0.1:0 --data "$WORK/data" --tokens "$WORK/tokens.toml")
start_ledger "${args[@]}"

get() {  # get PATH → body in $WORK/body, prints the status
  curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL$1"
}
expect() {  # expect STATUS PATH
  local got; got=$(get "$2")
  [[ $got == "$1" ]] || fail "GET $2: expected $1, got $got: $(cat "$WORK/body")"
}
field() { jq -r "$1" "$WORK/body"; }

n=0
ev() {  # ev TYPE ENTITY OCCURRED_AT DATA → one NDJSON line
  n=$((n + 1))
  printf '{"id":"5a000000-0000-4000-8000-%012d","type":"%s","entity":"%s","system":"AGRESSO","actor":"kari","occurred_at":"%s","data":%s}\n' \
    "$n" "$1" "$2" "$3" "$4"
}
inc() { printf '{"category":"%s","service":"altinn","summary":"%s"}' "$1" "$2"; }
maint() { printf '{"service":"%s","starts_at":"2026-11-16T18:00:00+01:00","ends_at":"2026-11-16T20:00:00+01:00","impact":"down"}' "$1"; }
{
  # The first event: calendar obligations from September 2026 on.
  ev service.registered service/altinn 2026-09-01T08:00:00+02:00 '{"environment":"production"}'
  ev service.registered service/seresweb 2026-09-01T08:00:00+02:00 '{"environment":"seres"}'
  # A: 5 h; resolved 30 min late; feedback within the hour.
  ev incident.reported incident/INC-A1 2026-11-16T09:00:00+01:00 "$(inc A "payments down")"
  ev incident.resolved incident/INC-A1 2026-11-16T14:30:00+01:00 '{"resolution":"restarted"}'
  ev incident.feedback_sent incident/INC-A1 2026-11-16T15:00:00+01:00 '{}'
  # B on a Friday evening: the clock starts Monday 08:00, due 16:00; resolved at 15:00.
  ev incident.reported incident/INC-B1 2026-11-13T18:00:00+01:00 "$(inc B "slow")"
  ev incident.resolved incident/INC-B1 2026-11-16T15:00:00+01:00 '{"resolution":"index rebuilt"}'
  ev incident.feedback_sent incident/INC-B1 2026-11-16T15:30:00+01:00 '{}'
  # C with a workaround before its deadline: waived.
  ev incident.reported incident/INC-C1 2026-11-16T10:00:00+01:00 "$(inc C "report layout")"
  ev incident.workaround incident/INC-C1 2026-11-17T10:00:00+01:00 '{"description":"old layout"}'
  # Reported C on a Friday evening, recategorised B on Saturday: due Monday 16:00, resolved 17:00.
  ev incident.reported incident/INC-R1 2026-11-13T18:00:00+01:00 "$(inc C "batch failed")"
  ev incident.recategorized incident/INC-R1 2026-11-14T10:00:00+01:00 '{"category":"B"}'
  ev incident.resolved incident/INC-R1 2026-11-16T17:00:00+01:00 '{"resolution":"rerun"}'
  ev incident.feedback_sent incident/INC-R1 2026-11-16T17:30:00+01:00 '{}'
  # Maintenance Monday 16 Nov 18:00: notice by Sunday 8 Nov (5 working days between); seres 3.
  ev maintenance.announced maintenance/M-1 2026-11-06T12:00:00+01:00 "$(maint altinn)"
  ev maintenance.announced maintenance/M-2 2026-11-10T09:00:00+01:00 "$(maint altinn)"
  ev maintenance.announced maintenance/M-3 2026-11-10T09:00:00+01:00 "$(maint seresweb)"
  # Outages of the production service: 90 minutes, then two hours inside M-1's window (announced
  # on time, so not counted; M-2 covers it too but was late).
  ev outage.started service/altinn 2026-11-03T10:00:00+01:00 '{}'
  ev outage.ended service/altinn 2026-11-03T11:30:00+01:00 '{}'
  ev outage.started service/altinn 2026-11-16T18:00:00+01:00 '{"incident":"INC-A1"}'
  ev outage.ended service/altinn 2026-11-16T20:00:00+01:00 '{}'
  # A resolved on time, feedback never sent (due 11:00).
  ev incident.reported incident/INC-F1 2026-11-17T09:00:00+01:00 "$(inc A "login")"
  ev incident.resolved incident/INC-F1 2026-11-17T10:00:00+01:00 '{"resolution":"cache cleared"}'
  # Requests: REQ-2 acknowledged and qualified (high) on time, never analysed (due 18 Nov);
  # REQ-3 qualified late, analysed on time.
  ev request.submitted request/REQ-2 2026-10-01T10:00:00+02:00 '{"title":"archive search"}'
  ev request.acknowledged request/REQ-2 2026-10-02T10:00:00+02:00 '{}'
  ev request.qualified request/REQ-2 2026-10-20T10:00:00+02:00 '{"priority":"high"}'
  ev request.submitted request/REQ-3 2026-10-01T10:00:00+02:00 '{"title":"bank format"}'
  ev request.acknowledged request/REQ-3 2026-10-05T10:00:00+02:00 '{}'
  ev request.qualified request/REQ-3 2026-11-02T09:00:00+01:00 '{"priority":"high"}'
  ev request.analysed request/REQ-3 2026-11-19T09:00:00+01:00 '{}'
  # The September uptime report, late, approved in time; no September status report.
  ev report.submitted report/UP-09 2026-10-20T12:00:00+02:00 '{"kind":"uptime","period":"2026-09"}'
  ev report.approved report/UP-09 2026-10-22T12:00:00+02:00 '{}'
  # Keys: SEAL-2 never rotated (expired 1 Nov); SEAL-3 rotated to SEAL-4, activated in time.
  fp="sha256:$(printf 'cd%.0s' {1..32})"
  ev key.issued key/SEAL-2 2026-10-01T09:00:00+02:00 "{\"purpose\":\"seal\",\"owner\":\"bank\",\"fingerprint\":\"$fp\",\"not_after\":\"2026-11-01T00:00:00+01:00\"}"
  ev key.activated key/SEAL-2 2026-10-02T09:00:00+02:00 '{}'
  ev key.issued key/SEAL-3 2026-10-01T09:00:00+02:00 "{\"purpose\":\"seal\",\"owner\":\"bank\",\"fingerprint\":\"$fp\",\"not_after\":\"2027-03-01T00:00:00+01:00\"}"
  ev key.activated key/SEAL-3 2026-10-02T09:00:00+02:00 '{}'
  ev key.issued key/SEAL-4 2026-10-10T09:00:00+02:00 "{\"purpose\":\"seal\",\"owner\":\"bank\",\"fingerprint\":\"$fp\",\"not_after\":\"2028-01-01T00:00:00+01:00\"}"
  ev key.rotated key/SEAL-3 2026-10-12T09:00:00+02:00 '{"successor":"SEAL-4","reason":"seal_error"}'
  ev key.activated key/SEAL-4 2026-10-13T09:00:00+02:00 '{}'
  # Access: read access revoked before it expired; an admin reviewed, the next review a year on.
  ev access.granted access/ACC-2 2026-11-02T09:00:00+01:00 '{"subject":"auditor","level":"read","expires_at":"2026-11-30T09:00:00+01:00","justification":"audit"}'
  ev access.revoked access/ACC-2 2026-11-05T09:00:00+01:00 '{"reason":"audit done"}'
  ev access.granted access/ACC-3 2026-11-02T09:00:00+01:00 '{"subject":"dba","level":"admin","justification":"operations"}'
  ev access.reviewed access/ACC-3 2026-11-05T09:00:00+01:00 '{"outcome":"kept"}'
  # A request acknowledged late (due end of Monday 9 Nov).
  ev request.submitted request/REQ-1 2026-11-02T10:00:00+01:00 '{"title":"new export"}'
  ev request.acknowledged request/REQ-1 2026-11-12T09:00:00+01:00 '{}'
  # The October uptime report on time, never answered: approved by default after 5 days.
  ev report.submitted report/UP-10 2026-11-10T12:00:00+01:00 '{"kind":"uptime","period":"2026-10"}'
  # The November status report, early: met.
  ev report.submitted report/ST-11 2026-11-19T12:00:00+01:00 '{"kind":"status","period":"2026-11"}'
  # A consultant's admin access, revoked a day after it expired.
  ev access.granted access/ACC-1 2026-11-02T09:00:00+01:00 '{"subject":"consultant","level":"admin","expires_at":"2026-11-09T09:00:00+01:00","justification":"upgrade"}'
  ev access.revoked access/ACC-1 2026-11-10T09:00:00+01:00 '{"reason":"done"}'
  # A seal key expiring 1 December: within 30 days by 20 November.
  ev key.issued key/SEAL-1 2026-10-05T09:00:00+02:00 "{\"purpose\":\"seal\",\"owner\":\"bank\",\"fingerprint\":\"sha256:$(printf 'ab%.0s' {1..32})\",\"not_after\":\"2026-12-01T00:00:00+01:00\"}"
  ev key.activated key/SEAL-1 2026-10-06T09:00:00+02:00 '{}'
} >"$WORK/events.ndjson"
"$LEDGER_BIN" emit "$WORK/events.ndjson" --url "$LEDGER_URL" --token "$ADMIN" --json >"$WORK/emit.json" 2>"$WORK/emit.err" ||
  fail "emit: $(cat "$WORK/emit.err")"
last=$(( $(wc -l <"$WORK/events.ndjson") - 1 ))

T=2026-11-20T12:00:00%2B01:00
expect 200 "/v1/breaches?as_of=$T&min_offset=$last"
got=$(field '[.breaches[] | "\(.obligation) \(.entity) \(.late_seconds)"] | sort | join(";")')
want="access_expiry access/ACC-1 86400;availability service/altinn 3716;incident_feedback incident/INC-F1 262800;incident_resolution incident/INC-A1 1800;\
incident_resolution incident/INC-R1 3600;key_rotation key/SEAL-2 1684800;maintenance_notice maintenance/M-2 118800;\
request_analysis request/REQ-2 216000;request_feedback request/REQ-1 205200;request_qualification request/REQ-3 291600;\
status_report report/status-2026-09 3070800;status_report report/status-2026-10 388800;uptime_report report/UP-09 820800"
[[ $got == "$want" ]] || fail "breaches as of $T:
got  $got
want $want"
[[ $(field '[.breaches[] | select(.entity == "incident/INC-A1")][0] | "\(.due) \(.met_at) \(.state) \(.system)"') == \
   "2026-11-16T13:00:00.000Z 2026-11-16T13:30:00.000Z breached AGRESSO" ]] || fail "INC-A1 breach: $(cat "$WORK/body")"
[[ $(field '[.breaches[] | select(.obligation == "status_report")][0].met_at') == null ]] || fail "an unmet breach has met_at null"
[[ $(field '.policy.incident_resolution.A_hours') == 5 && $(field '.policy.opening_hours.summer_closes') == 15:00 ]] ||
  fail "the policy in force is shown: $(field .policy)"

# As of a time before the resolution: breached so far, not met yet.
expect 200 "/v1/breaches?as_of=2026-11-16T14:10:00%2B01:00&obligation=incident_resolution"
[[ $(field '[.breaches[] | "\(.entity) \(.late_seconds) \(.met_at)"] | join(";")') == "incident/INC-A1 600 null" ]] ||
  fail "breaches as of 14:10: $(cat "$WORK/body")"
# Filters: system, due window.
expect 200 "/v1/breaches?as_of=$T&system=NOPE"
[[ $(field '.breaches | length') == 0 ]] || fail "system filter"
expect 200 "/v1/breaches?as_of=$T&since=2026-11-16T00:00:00%2B01:00&until=2026-11-16T23:59:59%2B01:00"
[[ $(field '[.breaches[].entity] | join(",")') == "report/status-2026-10,incident/INC-A1,incident/INC-R1" ]] ||
  fail "due window: $(field '[.breaches[].entity]')"

# Obligations by state.
expect 200 "/v1/obligations?as_of=$T&state=waived"
[[ $(field '[.obligations[] | "\(.obligation) \(.entity)"] | join(";")') == "incident_resolution incident/INC-C1" ]] ||
  fail "waived: $(cat "$WORK/body")"
expect 200 "/v1/obligations?as_of=$T&state=met"
for want in "incident_resolution incident/INC-B1" "incident_feedback incident/INC-B1" "incident_feedback incident/INC-A1" \
            "maintenance_notice maintenance/M-1" "maintenance_notice maintenance/M-3" "uptime_report report/UP-10" \
            "report_approval report/UP-10" "access_review access/ACC-1"; do
  jq -e --arg w "$want" '[.obligations[] | "\(.obligation) \(.entity)"] | index($w) != null' "$WORK/body" >/dev/null ||
    fail "met as of $T lacks $want: $(field '[.obligations[] | "\(.obligation) \(.entity)"]')"
done
# Every obligation as of T, with its state.
expect 200 "/v1/obligations?as_of=$T"
got=$(field '[.obligations[] | "\(.obligation) \(.entity) \(.state)"] | sort | join(";")')
want="access_expiry access/ACC-1 breached;access_expiry access/ACC-2 met;access_review access/ACC-1 met;\
access_review access/ACC-3 met;access_review access/ACC-3 open;\
availability service/altinn breached;availability service/altinn met;availability service/altinn met;\
availability service/seresweb met;availability service/seresweb met;availability service/seresweb open;\
incident_feedback incident/INC-A1 met;\
incident_feedback incident/INC-B1 met;incident_feedback incident/INC-F1 breached;incident_feedback incident/INC-R1 met;\
incident_resolution incident/INC-A1 breached;incident_resolution incident/INC-B1 met;incident_resolution incident/INC-C1 waived;\
incident_resolution incident/INC-F1 met;incident_resolution incident/INC-R1 breached;key_rotation key/SEAL-1 open;\
key_rotation key/SEAL-2 breached;key_rotation key/SEAL-3 met;key_rotation key/SEAL-4 open;\
maintenance_notice maintenance/M-1 met;maintenance_notice maintenance/M-2 breached;maintenance_notice maintenance/M-3 met;\
report_approval report/UP-09 met;report_approval report/UP-10 met;request_analysis request/REQ-2 breached;\
request_analysis request/REQ-3 met;request_feedback request/REQ-1 breached;request_feedback request/REQ-2 met;\
request_feedback request/REQ-3 met;request_qualification request/REQ-1 open;request_qualification request/REQ-2 met;\
request_qualification request/REQ-3 breached;\
status_report report/ST-11 met;status_report report/status-2026-09 breached;status_report report/status-2026-10 breached;\
uptime_report report/UP-09 breached;\
uptime_report report/UP-10 met;uptime_report report/uptime-2026-11 open"
[[ $got == "$want" ]] || fail "obligations as of $T:
got  $got
want $want"
# A year on, the admin's next review is overdue.
expect 200 "/v1/breaches?as_of=2027-12-01T00:00:00%2B01:00&obligation=access_review"
[[ $(field '[.breaches[] | "\(.entity) \(.due)"] | join(";")') == "access/ACC-3 2027-11-05T08:00:00.000Z" ]] ||
  fail "access_review a year on: $(cat "$WORK/body")"
expect 200 "/v1/obligations?as_of=$T&state=open"
[[ $(field '[.obligations[] | select(.obligation == "key_rotation")][0].warning') == true ]] || fail "key rotation warning"
expect 400 "/v1/obligations?state=late"
[[ $(field .field) == state ]] || fail "400 names state"
expect 400 "/v1/breaches?as_of=tomorrow"
[[ $(field .field) == as_of ]] || fail "400 names as_of"

# No parameter ignored: an unknown or invalid one is a 400 naming it, on every read.
expect_400() {  # expect_400 FIELD PATH [ADMIN]
  local got; got=$(curl -s -m 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer ${3:-$READER}" "$LEDGER_URL$2")
  [[ $got == 400 && $(field .field) == "$1" ]] || fail "GET $2: expected 400 naming $1, got $got: $(cat "$WORK/body")"
}
expect_400 as_of "/v1/findings?as_of=garbage"
expect_400 finding "/v1/findings?finding=bogus"
expect_400 since "/v1/findings?since=2026-11-20T00:00:00Z&until=2026-11-01T00:00:00Z"
expect_400 limit "/v1/timeline?from=2026-11-01T00:00:00Z&to=2026-11-30T00:00:00Z&limit=2"
expect_400 from "/v1/timeline?from=2026-11-30T00:00:00Z&to=2026-11-01T00:00:00Z"
expect_400 obligation "/v1/breaches?obligation=bogus"
expect_400 bogus "/v1/breaches?bogus=1"
expect_400 state "/v1/breaches?state=open"
expect_400 since "/v1/obligations?since=2026-11-20T00:00:00Z&until=2026-11-01T00:00:00Z"
expect_400 monht "/v1/availability?service=altinn&month=2026-11&monht=2026-10"
expect_400 as_of "/v1/entities/incident/INC-A1/trail?as_of=yesterday"
expect_400 format "/v1/export?format=xml" "$ADMIN"
expect_400 offset "/v1/verify?offset=3" "$ADMIN"
# A '+' sent unencoded arrives as a space: the answer says how to write it.
expect_400 as_of "/v1/breaches?as_of=2026-11-20T12:00:00+01:00"
grep -q '%2B' "$WORK/body" || fail "no %2B hint: $(cat "$WORK/body")"
# What a neighbour takes: as_of on findings, timeline and trails; min_offset on verify and export.
expect 200 "/v1/timeline?from=2026-11-16T00:00:00%2B01:00&to=2026-11-17T00:00:00%2B01:00&as_of=2026-11-16T12:00:00%2B01:00"
[[ $(field '[.events[].occurred_at] | map(select(. > "2026-11-16T12:00:00+01:00")) | length') == 0 &&
   $(field '.events | length') -gt 0 && $(field .to) == 2026-11-16T23:00:00.000Z ]] ||
  fail "timeline as_of: $(cat "$WORK/body")"
expect 200 "/v1/findings"
all_findings=$(field '.findings | length')
expect 200 "/v1/findings?as_of=2026-10-01T00:00:00%2B02:00"
[[ $(field '.findings | length') -gt 0 && $(field '.findings | length') -lt $all_findings &&
   $(field '[.findings[].occurred_at] | map(select(. > "2026-09-30T22:00:00.000Z")) | length') == 0 ]] ||
  fail "findings as_of: $(field '.findings | length') of $all_findings"
expect 200 "/v1/entities/incident/INC-A1/trail?as_of=2026-11-16T14:00:00%2B01:00"
[[ $(field '[.events[].type] | join(",")') == incident.reported ]] || fail "trail as_of: $(field '[.events[].type]')"
expect 200 "/v1/entities/incident/INC-A1/trail"
[[ $(field '.events | length') == 3 ]] || fail "trail: $(field '[.events[].type]')"
for path in "/v1/verify?min_offset=$last" "/v1/export?min_offset=$last&format=csv"; do
  code=$(curl -s -m 60 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$LEDGER_URL$path")
  [[ $code == 200 ]] || fail "GET $path: $code $(cat "$WORK/body")"
done
code=$(curl -s -m 60 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$LEDGER_URL/v1/export?min_offset=$((last + 1000))")
[[ $code == 504 ]] || fail "export min_offset past the end: $code"

# Entity status lists its obligations; the unanswered report is approved by default.
expect 200 "/v1/entities/report/UP-10"
[[ $(field .state) == approved_by_default ]] || fail "report state: $(field .state)"
[[ $(field '.obligations[0] | "\(.obligation) \(.state) \(.approved_by_default)"') == "report_approval met true" ]] ||
  fail "report obligations: $(field .obligations)"
expect 200 "/v1/entities/report/UP-10?as_of=2026-11-12T12:00:00%2B01:00"
[[ $(field .state) == submitted && $(field '.obligations[0].state') == open ]] || fail "report as of 12 Nov: $(cat "$WORK/body")"
expect 200 "/v1/entities/incident/INC-R1"
[[ $(field '[.obligations[] | "\(.obligation) \(.state) \(.due)"] | join(";")') == \
   "incident_feedback met 2026-11-16T17:00:00.000Z;incident_resolution breached 2026-11-16T15:00:00.000Z" ]] ||
  fail "INC-R1 obligations: $(field .obligations)"

# Availability: November so far (19.5 days, 90 minutes down), October whole (one hour more).
expect 200 "/v1/availability?service=altinn&month=2026-11&as_of=$T"
[[ $(field '"\(.service_minutes) \(.outage_minutes) \(.availability_percent) \(.target_percent) \(.breached)"') == \
   "28080 90 99.6795 99.9 true" ]] || fail "availability November: $(cat "$WORK/body")"
expect 200 "/v1/availability?service=altinn&month=2026-10"
[[ $(field '"\(.service_minutes) \(.outage_minutes) \(.availability_percent) \(.breached)"') == "44700 0 100 false" ]] ||
  fail "availability October: $(cat "$WORK/body")"
expect 400 "/v1/availability?service=altinn&month=2026-13"
[[ $(field .field) == month ]] || fail "400 names month"
expect 400 "/v1/availability?month=2026-11"
[[ $(field .field) == service ]] || fail "400 names service"
expect 404 "/v1/availability?service=nope&month=2026-11"
"$LEDGER_BIN" availability altinn 2026-11 --as-of 2026-11-20T12:00:00+01:00 --url "$LEDGER_URL" --token "$READER" --json |
  jq -e '.outage_minutes == 90 and .breached' >/dev/null || fail "ledger availability --json"
# The table: whole minutes for a month that has ended, two places for the month so far.
out=$("$LEDGER_BIN" availability altinn 2026-11 --as-of 2026-11-20T12:00:30+01:00 --url "$LEDGER_URL" --token "$READER")
grep -q '^  service minutes  28080.50$' <<<"$out" && grep -q '^  outage minutes   90$' <<<"$out" &&
  grep -q 'BREACHED' <<<"$out" || fail "ledger availability, November so far: $out"
out=$("$LEDGER_BIN" availability altinn 2026-10 --url "$LEDGER_URL" --token "$READER")
grep -q '^  service minutes  44700$' <<<"$out" || fail "ledger availability, October: $out"

# March and October through Kafka alone: a ledger of its own, written straight to Kafka and
# replayed. March 2026 has one hour fewer; the outage across the switch (01:30 CET to 03:30
# CEST) is one real hour; the development service counts Mon-Fri 07-20 only; in October (one
# hour more) 44 minutes down across the switch keeps production at 99.9016 %.
march=$(unique slamarch)
{
  n=100
  ev service.registered service/prod 2026-03-01T00:00:00+01:00 '{"environment":"production"}'
  ev service.registered service/dev 2026-03-01T00:00:00+01:00 '{"environment":"development","target":99.5}'
  ev outage.started service/prod 2026-03-29T01:30:00+01:00 '{}'
  ev outage.ended service/prod 2026-03-29T03:30:00+02:00 '{}'
  ev outage.started service/dev 2026-03-14T10:00:00+01:00 '{}'
  ev outage.ended service/dev 2026-03-16T09:00:00+01:00 '{}'
  ev outage.started service/prod 2026-10-25T02:30:00+02:00 '{}'
  ev outage.ended service/prod 2026-10-25T02:14:00+01:00 '{}'
  # dev becomes a production service with its own target in October; svc-late is registered in
  # October only.
  ev service.registered service/dev 2026-10-01T00:00:00+02:00 '{"environment":"production","target":99.0}'
  ev service.registered service/svc-late 2026-10-05T09:00:00+02:00 '{"environment":"test"}'
} >"$WORK/march.ndjson"
"$LEDGER_BIN" emit "$WORK/march.ndjson" --brokers "$LEDGER_TEST_BROKERS" --ledger "$march" -q 2>"$WORK/emit.err" ||
  fail "emit to Kafka: $(cat "$WORK/emit.err")"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$march" --data "$WORK/march" --quiet
"$LEDGER_BIN" availability prod 2026-03 --data "$WORK/march" --json >"$WORK/body"
[[ $(field '"\(.service_minutes) \(.outage_minutes) \(.availability_percent) \(.breached)"') == "44580 60 99.8654 true" ]] ||
  fail "March, production: $(cat "$WORK/body")"
"$LEDGER_BIN" availability dev 2026-03 --data "$WORK/march" --json >"$WORK/body"
[[ $(field '"\(.service_minutes) \(.outage_minutes) \(.target_percent) \(.breached)"') == "17160 120 99.5 true" ]] ||
  fail "March, development (Saturday and Sunday outside service hours): $(cat "$WORK/body")"
"$LEDGER_BIN" availability prod 2026-10 --data "$WORK/march" --json >"$WORK/body"
[[ $(field '"\(.service_minutes) \(.outage_minutes) \(.breached)"') == "44700 44 false" ]] ||
  fail "October, production: $(cat "$WORK/body")"
# Each month under the registration in force then: dev is development at 99.5 % in March,
# production at 99.0 % in October.
"$LEDGER_BIN" availability dev 2026-10 --data "$WORK/march" --json >"$WORK/body"
[[ $(field '"\(.environment) \(.target_percent) \(.service_minutes)"') == "production 99 44700" ]] ||
  fail "October, dev re-registered: $(cat "$WORK/body")"
# A service registered later is not available in a month before: the answer names both.
rc=0; "$LEDGER_BIN" availability svc-late 2026-09 --data "$WORK/march" >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q 'service/svc-late was not registered by the end of 2026-09' "$WORK/err" ||
  fail "a month before the registration: $rc $(cat "$WORK/err")"
"$LEDGER_BIN" availability svc-late 2026-10 --data "$WORK/march" --json >"$WORK/body" || fail "the month it was registered"
# The monthly report has one list: March's availability breaches are in ledger breaches.
"$LEDGER_BIN" breaches --data "$WORK/march" --as-of 2026-04-01T00:00:00+02:00 --month 2026-03 --obligation availability --json >"$WORK/body"
[[ $(field '[.breaches[] | "\(.entity) \(.period) \(.due)"] | join(";")') == \
   "service/dev 2026-03 2026-03-31T22:00:00.000Z;service/prod 2026-03 2026-03-31T22:00:00.000Z" ]] ||
  fail "availability breaches: $(cat "$WORK/body")"

# CSV for the monthly report, and the CLI.
code=$(curl -s -m 30 -o "$WORK/breaches.csv" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/breaches?as_of=$T&format=csv")
[[ $code == 200 ]] || fail "csv: $code"
[[ $(head -1 "$WORK/breaches.csv" | tr -d '\r') == "obligation,entity,system,due,met_at,late_seconds,state" ]] || fail "csv header"
[[ $(($(wc -l <"$WORK/breaches.csv") - 1)) == 13 ]] || fail "csv rows: $(cat "$WORK/breaches.csv")"
grep -q '^incident_resolution,incident/INC-A1,AGRESSO,2026-11-16T13:00:00.000Z,2026-11-16T13:30:00.000Z,1800,breached' \
  "$WORK/breaches.csv" || fail "csv row: $(cat "$WORK/breaches.csv")"
"$LEDGER_BIN" breaches --url "$LEDGER_URL" --token "$READER" --as-of 2026-11-20T12:00:00+01:00 --format csv >"$WORK/cli.csv"
diff <(tr -d '\r' <"$WORK/cli.csv") <(tr -d '\r' <"$WORK/breaches.csv") >/dev/null || fail "ledger breaches --format csv differs"
"$LEDGER_BIN" breaches --url "$LEDGER_URL" --token "$READER" --as-of 2026-11-20T12:00:00+01:00 >"$WORK/cli.txt"
grep -q "^13 breaches" "$WORK/cli.txt" || fail "ledger breaches table: $(cat "$WORK/cli.txt")"
# Times as people read them: a date for --as-of (the start of that day in Oslo), --month for the
# monthly report, Oslo times with their offset and lateness in words in the table.
"$LEDGER_BIN" breaches --url "$LEDGER_URL" --token "$READER" --as-of 2026-11-21 --month 2026-11 >"$WORK/cli.txt"
grep -q '^incident_resolution *incident/INC-A1 *AGRESSO *2026-11-16 14:00 +01:00 *2026-11-16 14:30 +01:00 *30 min late *breached$' \
  "$WORK/cli.txt" || fail "breaches table in Oslo time: $(cat "$WORK/cli.txt")"
grep -q 'access/ACC-1 .*1 d late' "$WORK/cli.txt" || fail "a day late in words: $(cat "$WORK/cli.txt")"
! grep -q 'report/UP-09' "$WORK/cli.txt" || fail "--month 2026-11 lists a breach due in October: $(cat "$WORK/cli.txt")"
"$LEDGER_BIN" breaches --data "$WORK/data" --as-of 2026-11-21 --month 2026-11 --json >"$WORK/body"
[[ $(field .as_of) == 2026-11-20T23:00:00.000Z && $(field .since) == 2026-10-31T23:00:00.000Z ]] ||
  fail "a date is the start of that day in Oslo: $(field .as_of) $(field .since)"
# What a controller reaches for: entities by kind and system; CSV of findings and obligations.
expect 200 "/v1/entities?kind=incident&system=AGRESSO"
[[ $(field '[.entities[] | "\(.entity) \(.state)"] | join(",")') == \
   "incident/INC-A1 resolved,incident/INC-B1 resolved,incident/INC-C1 reported,incident/INC-F1 resolved,incident/INC-R1 resolved" ]] ||
  fail "entities of kind incident: $(cat "$WORK/body")"
expect_400 kind "/v1/entities?kind=incidents"
"$LEDGER_BIN" entities --kind key --url "$LEDGER_URL" --token "$READER" >"$WORK/cli.txt"
grep -q '^key/SEAL-2 .* active' "$WORK/cli.txt" && grep -q '^4 entities$' "$WORK/cli.txt" || fail "ledger entities: $(cat "$WORK/cli.txt")"
code=$(curl -s -m 30 -o "$WORK/obl.csv" -w '%{http_code}' -H "Authorization: Bearer $READER" "$LEDGER_URL/v1/obligations?as_of=$T&format=csv&state=waived")
[[ $code == 200 && $(sed -n 2p "$WORK/obl.csv" | cut -d, -f1,2,7 | tr -d '\r') == "incident_resolution,incident/INC-C1,waived" ]] ||
  fail "obligations as CSV: $code $(cat "$WORK/obl.csv")"
"$LEDGER_BIN" findings --url "$LEDGER_URL" --token "$READER" --format csv >"$WORK/f.csv"
[[ $(head -1 "$WORK/f.csv" | tr -d '\r') == finding,entity,system,event_id,offset,occurred_at,severity,detail &&
   $(($(wc -l <"$WORK/f.csv") - 1)) == "$all_findings" ]] || fail "findings as CSV: $(head -3 "$WORK/f.csv")"
"$LEDGER_BIN" obligations --url "$LEDGER_URL" --token "$READER" --as-of 2026-11-20T12:00:00+01:00 --state waived --json |
  jq -e '.obligations | length == 1' >/dev/null || fail "ledger obligations --state waived --json"
set +e
"$LEDGER_BIN" breaches --url "$LEDGER_URL" --token "$READER" --as-of yesterday >/dev/null 2>"$WORK/err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q -- "--as-of" "$WORK/err" || fail "bad --as-of: rc $rc $(cat "$WORK/err")"

# The read models on disk answer the same.
stop_ledger
"$LEDGER_BIN" breaches --data "$WORK/data" --as-of 2026-11-20T12:00:00+01:00 --json >"$WORK/body"
[[ $(field '.breaches | length') == 13 ]] || fail "breaches --data: $(cat "$WORK/body")"

# verify: clean, then an edited obligation is named with the offset of the event that last
# changed it (INC-A1's resolution: offset 3).
"$LEDGER_BIN" verify --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" >"$WORK/v.out" 2>&1 ||
  fail "verify: $(cat "$WORK/v.out")"
cp -r "$WORK/data" "$WORK/edited"
edit_read_model "$WORK/edited" obligations 5a000000-0000-4000-8000-000000000003 5a000000-0000-4000-8000-000000000009
rc=$(verify_json "$name" "$WORK/edited")
[[ $rc == 1 && $(field '.problems[0].problem') == *"obligations was edited"* && $(field '.problems[0].offset') == 3 ]] ||
  fail "verify of an edited obligation: rc $rc $(cat "$WORK/body")"

# --policy: A incidents get 6 h in a replay under another policy; INC-A1 is then met.
printf '[incident_resolution]\nA_hours = 6\n' >"$WORK/policy.toml"
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/p6" --policy "$WORK/policy.toml" --quiet
"$LEDGER_BIN" breaches --data "$WORK/p6" --as-of 2026-11-20T12:00:00+01:00 --json >"$WORK/body"
[[ $(field '[.breaches[] | select(.entity == "incident/INC-A1")] | length') == 0 ]] || fail "policy override: $(cat "$WORK/body")"
[[ $(field '.breaches | length') == 12 && $(field '.policy.incident_resolution.A_hours') == 6 ]] || fail "policy shown"
# A bad policy is refused, naming the setting, and writes nothing.
printf '[incident_resolution]\nA_hours = -1\n' >"$WORK/bad.toml"
set +e
"$LEDGER_BIN" replay --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/bad" --policy "$WORK/bad.toml" --quiet 2>"$WORK/err"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "incident_resolution.A_hours" "$WORK/err" || fail "bad policy: rc $rc $(cat "$WORK/err")"
[[ ! -e $WORK/bad/data.mdb ]] || fail "a refused policy wrote read models"
# The live directory was projected under the defaults: another policy is refused.
set +e
timeout 30 "$LEDGER_BIN" project --brokers "$LEDGER_TEST_BROKERS" --ledger "$name" --data "$WORK/data" --policy "$WORK/policy.toml" \
  >"$WORK/out" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "another SLA policy" "$WORK/out" || fail "policy change on a data directory: rc $rc $(cat "$WORK/out")"
echo "sla: ok"
