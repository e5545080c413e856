#pragma once
// The field table of every event type (domain.md 2.3). One line per field: its JSON name, its
// member and its rule. Required unless the member is std::optional.

#include "events/event_types.h"

namespace ledger::events {

#define LEDGER_SCHEMA(T, TYPE, KIND, ...)                           \
    template <>                                                     \
    struct schema<T> {                                              \
        static constexpr std::string_view type = TYPE;              \
        static constexpr entity_kind kind = entity_kind::KIND;      \
        static constexpr auto fields = std::make_tuple(__VA_ARGS__); \
    };

#define F(T, name, r) LEDGER_FIELD(T, name, r)

LEDGER_SCHEMA(artifact, "", change, F(artifact, name, text), F(artifact, version, text), F(artifact, digest, digest))

LEDGER_SCHEMA(actor_registered, "actor.registered", actor, F(actor_registered, name, text),
              F(actor_registered, organization, text), F(actor_registered, kind, one_of(actor_kinds)))
LEDGER_SCHEMA(role_granted, "role.granted", actor, F(role_granted, role, one_of(roles)),
              F(role_granted, system, system_id), F(role_granted, valid_until, timestamp_rule))
LEDGER_SCHEMA(role_revoked, "role.revoked", actor, F(role_revoked, role, one_of(roles)),
              F(role_revoked, system, system_id))

LEDGER_SCHEMA(change_requested, "change.requested", change, F(change_requested, title, text),
              F(change_requested, category, one_of(change_categories)), F(change_requested, description, text),
              F(change_requested, emergency, boolean))
LEDGER_SCHEMA(change_approved, "change.approved", change, F(change_approved, gate, one_of(gates)),
              F(change_approved, comment, text))
LEDGER_SCHEMA(change_rejected, "change.rejected", change, F(change_rejected, gate, one_of(gates)),
              F(change_rejected, reason, text))
LEDGER_SCHEMA(change_deployed, "change.deployed", change, F(change_deployed, environment, one_of(environments)),
              F(change_deployed, artifact, object))
LEDGER_SCHEMA(test_signed_off, "test.signed_off", change, F(test_signed_off, environment, one_of(test_only)),
              F(test_signed_off, result, one_of(pass_fail)), F(test_signed_off, artifact_digest, digest),
              F(test_signed_off, comment, text))
LEDGER_SCHEMA(change_rolled_back, "change.rolled_back", change,
              F(change_rolled_back, environment, one_of(environments)), F(change_rolled_back, reason, text))
LEDGER_SCHEMA(change_verified, "change.verified", change, F(change_verified, environment, one_of(production_only)),
              F(change_verified, result, one_of(pass_fail)))
LEDGER_SCHEMA(change_documented, "change.documented", change, F(change_documented, reference, text))
LEDGER_SCHEMA(change_closed, "change.closed", change, F(change_closed, outcome, one_of(close_outcomes)))

LEDGER_SCHEMA(agreement_requested, "agreement.requested", agreement,
              F(agreement_requested, provider_system, identifier), F(agreement_requested, consumer_system, identifier),
              F(agreement_requested, service, text))
LEDGER_SCHEMA(agreement_approved, "agreement.approved", agreement)
LEDGER_SCHEMA(agreement_terminated, "agreement.terminated", agreement, F(agreement_terminated, reason, text))
LEDGER_SCHEMA(route_ordered, "route.ordered", route, F(route_ordered, action, one_of(route_actions)),
              F(route_ordered, transport, one_of(transports)), F(route_ordered, addressing, one_of(addressings)),
              F(route_ordered, sender_system, identifier), F(route_ordered, receiver_system, identifier),
              F(route_ordered, order_id, text), F(route_ordered, agreement, reference_to(entity_kind::agreement)),
              F(route_ordered, replaces, reference_to(entity_kind::route)))
LEDGER_SCHEMA(window_opened, "window.opened", window, F(window_opened, reason, text))
LEDGER_SCHEMA(window_closed, "window.closed", window)
LEDGER_SCHEMA(route_activated, "route.activated", route, F(route_activated, window, reference_to(entity_kind::window)))
LEDGER_SCHEMA(route_decommissioned, "route.decommissioned", route,
              F(route_decommissioned, window, reference_to(entity_kind::window)), F(route_decommissioned, archived, boolean))
LEDGER_SCHEMA(route_rolled_back, "route.rolled_back", route, F(route_rolled_back, window, reference_to(entity_kind::window)),
              F(route_rolled_back, reason, text))

LEDGER_SCHEMA(key_issued, "key.issued", key, F(key_issued, purpose, one_of(key_purposes)), F(key_issued, owner, text),
              F(key_issued, fingerprint, fingerprint), F(key_issued, not_after, timestamp_rule),
              F(key_issued, public_key, public_key))
LEDGER_SCHEMA(key_activated, "key.activated", key)
LEDGER_SCHEMA(key_rotated, "key.rotated", key, F(key_rotated, successor, reference_to(entity_kind::key)),
              F(key_rotated, reason, one_of(rotation_reasons)))
LEDGER_SCHEMA(key_revoked, "key.revoked", key, F(key_revoked, reason, text))

LEDGER_SCHEMA(incident_reported, "incident.reported", incident,
              F(incident_reported, category, one_of(incident_categories)), F(incident_reported, service, text),
              F(incident_reported, summary, text))
LEDGER_SCHEMA(incident_recategorized, "incident.recategorized", incident,
              F(incident_recategorized, category, one_of(incident_categories)))
LEDGER_SCHEMA(incident_workaround, "incident.workaround", incident, F(incident_workaround, description, text))
LEDGER_SCHEMA(incident_resolved, "incident.resolved", incident, F(incident_resolved, resolution, text))
LEDGER_SCHEMA(incident_feedback_sent, "incident.feedback_sent", incident)
LEDGER_SCHEMA(incident_closed, "incident.closed", incident)
LEDGER_SCHEMA(maintenance_announced, "maintenance.announced", maintenance,
              F(maintenance_announced, service, reference_to(entity_kind::service)),
              F(maintenance_announced, starts_at, timestamp_rule), F(maintenance_announced, ends_at, timestamp_rule),
              F(maintenance_announced, impact, text))
LEDGER_SCHEMA(maintenance_completed, "maintenance.completed", maintenance)
LEDGER_SCHEMA(service_registered, "service.registered", service,
              F(service_registered, environment, one_of(service_environments)), F(service_registered, target, percent))
LEDGER_SCHEMA(outage_started, "outage.started", service, F(outage_started, incident, reference_to(entity_kind::incident)))
LEDGER_SCHEMA(outage_ended, "outage.ended", service)

LEDGER_SCHEMA(report_submitted, "report.submitted", report, F(report_submitted, kind, one_of(report_kinds)),
              F(report_submitted, period, month_rule))
LEDGER_SCHEMA(report_approved, "report.approved", report, F(report_approved, comment, text))
LEDGER_SCHEMA(report_rejected, "report.rejected", report, F(report_rejected, comment, text))
LEDGER_SCHEMA(request_submitted, "request.submitted", request, F(request_submitted, title, text))
LEDGER_SCHEMA(request_acknowledged, "request.acknowledged", request)
LEDGER_SCHEMA(request_qualified, "request.qualified", request, F(request_qualified, priority, one_of(priorities)))
LEDGER_SCHEMA(request_analysed, "request.analysed", request)
LEDGER_SCHEMA(access_granted, "access.granted", access, F(access_granted, subject, identifier),
              F(access_granted, level, one_of(access_levels)), F(access_granted, expires_at, timestamp_rule),
              F(access_granted, justification, text))
LEDGER_SCHEMA(access_reviewed, "access.reviewed", access, F(access_reviewed, outcome, one_of(review_outcomes)))
LEDGER_SCHEMA(access_revoked, "access.revoked", access, F(access_revoked, reason, text))
LEDGER_SCHEMA(calendar_holiday_added, "calendar.holiday_added", calendar, F(calendar_holiday_added, date, date_rule))
LEDGER_SCHEMA(calendar_holiday_removed, "calendar.holiday_removed", calendar,
              F(calendar_holiday_removed, date, date_rule))

#undef F
#undef LEDGER_SCHEMA

}  // namespace ledger::events
