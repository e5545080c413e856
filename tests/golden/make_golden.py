#!/usr/bin/env python3
"""Writes records.tsv: one Kafka record per event type of domain.md 2.3, as
"<sha256 hex>\t<RFC 8785 JSON>", made independently of the C++ code (Python's json with sorted
keys and no spaces is RFC 8785 for these records: ASCII keys, no floats except whole ones).
Run once when a type or the record format changes on purpose; tests/events/golden_test.cc
decodes and re-hashes every line in every CI run. Usage: python3 make_golden.py > records.tsv
"""
import hashlib
import json

D = "sha256:" + "ab" * 32
D2 = "sha256:" + "cd" * 32
PK = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="  # RFC 8032 test 1 public key
T = "2026-03-02T10:15:00+01:00"

types = [
    ("actor.registered", "actor/kari", {"name": "Kari Nordmann", "organization": "Oslo kommune", "kind": "person"}),
    ("role.granted", "actor/kari", {"role": "system_manager", "system": "AGRESSO", "valid_until": "2027-01-01T00:00:00Z"}),
    ("role.revoked", "actor/kari", {"role": "system_manager", "system": "AGRESSO"}),
    ("change.requested", "change/CHG-17", {"title": "Upgrade to 5.7", "category": "application_upgrade",
                                           "description": "Yearly upgrade", "emergency": False}),
    ("change.approved", "change/CHG-17", {"gate": "start", "comment": "ok"}),
    ("change.rejected", "change/CHG-17", {"gate": "production", "reason": "missing test"}),
    ("change.deployed", "change/CHG-17", {"environment": "test",
                                          "artifact": {"name": "agresso", "version": "5.7.1", "digest": D}}),
    ("test.signed_off", "change/CHG-17", {"environment": "test", "result": "passed", "artifact_digest": D}),
    ("change.rolled_back", "change/CHG-17", {"environment": "production", "reason": "errors in posting"}),
    ("change.verified", "change/CHG-17", {"environment": "production", "result": "passed"}),
    ("change.documented", "change/CHG-17", {"reference": "DOC-2026-17"}),
    ("change.closed", "change/CHG-17", {"outcome": "completed"}),
    ("agreement.requested", "agreement/SA-1", {"provider_system": "SF1590", "consumer_system": "ESDH",
                                               "service": "SF1590_A"}),
    ("agreement.approved", "agreement/SA-1", None),
    ("agreement.terminated", "agreement/SA-1", {"reason": "system replaced"}),
    ("route.ordered", "route/R-4", {"action": "establish", "transport": "webservice", "addressing": "explicit",
                                    "sender_system": "ESDH", "receiver_system": "SF1590", "order_id": "ORD-88",
                                    "agreement": "SA-1"}),
    ("window.opened", "window/W-2", {"reason": "route switch"}),
    ("window.closed", "window/W-2", None),
    ("route.activated", "route/R-4", {"window": "W-2"}),
    ("route.decommissioned", "route/R-3", {"window": "W-2", "archived": True}),
    ("route.rolled_back", "route/R-4", {"window": "W-2", "reason": "receipts missing"}),
    ("key.issued", "key/SEAL-2", {"purpose": "signing", "owner": "Oslo kommune", "fingerprint": D2,
                                  "not_after": "2027-03-01T00:00:00Z", "public_key": PK}),
    ("key.activated", "key/SEAL-2", {}),
    ("key.rotated", "key/SEAL-1", {"successor": "SEAL-2", "reason": "seal_error"}),
    ("key.revoked", "key/SEAL-1", {"reason": "compromised"}),
    ("incident.reported", "incident/INC-9", {"category": "B", "service": "altinn-formidling", "summary": "Timeouts"}),
    ("incident.recategorized", "incident/INC-9", {"category": "A"}),
    ("incident.workaround", "incident/INC-9", {"description": "Retry with smaller files"}),
    ("incident.resolved", "incident/INC-9", {"resolution": "Restarted the queue"}),
    ("incident.feedback_sent", "incident/INC-9", None),
    ("incident.closed", "incident/INC-9", None),
    ("maintenance.announced", "maintenance/M-3", {"service": "altinn-formidling", "starts_at": "2026-03-20T18:00:00+01:00",
                                                  "ends_at": "2026-03-20T22:00:00+01:00", "impact": "No uploads"}),
    ("maintenance.completed", "maintenance/M-3", None),
    ("service.registered", "service/altinn-formidling", {"environment": "production", "target": 99.9}),
    ("outage.started", "service/altinn-formidling", {"incident": "INC-9"}),
    ("outage.ended", "service/altinn-formidling", None),
    ("report.submitted", "report/UP-2026-02", {"kind": "uptime", "period": "2026-02"}),
    ("report.approved", "report/UP-2026-02", {"comment": "fine"}),
    ("report.rejected", "report/UP-2026-02", None),
    ("request.submitted", "request/RFC-12", {"title": "New export format"}),
    ("request.acknowledged", "request/RFC-12", None),
    ("request.qualified", "request/RFC-12", {"priority": "high"}),
    ("request.analysed", "request/RFC-12", None),
    ("access.granted", "access/ACC-5", {"subject": "consultant-ola", "level": "admin",
                                        "expires_at": "2026-06-30T23:59:59+02:00", "justification": "Migration"}),
    ("access.reviewed", "access/ACC-5", {"outcome": "kept"}),
    ("access.revoked", "access/ACC-5", {"reason": "project ended"}),
    ("calendar.holiday_added", "calendar/norway", {"date": "2026-12-24"}),
    ("calendar.holiday_removed", "calendar/norway", {"date": "2026-12-24"}),
]

for i, (typ, entity, data) in enumerate(types):
    event = {
        "id": "00000000-0000-4000-8000-%012d" % (i + 1),
        "type": typ,
        "entity": entity,
        "system": "AGRESSO",
        "actor": "kari",
        "occurred_at": T,
        "producer": "golden",
        "recorded_at": "2026-03-02T09:15:01.000Z",
    }
    if data is not None:
        event["data"] = data
    # A whole float (99.9 is not whole) is the one place Python and RFC 8785 could differ; 99.9
    # prints the same in both.
    record = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    print(hashlib.sha256(record.encode("utf-8")).hexdigest() + "\t" + record)
