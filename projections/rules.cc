#include "projections/rules.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "projections/times.h"

namespace ledger::projections {

const std::vector<std::string_view>& finding_names() {
    static const std::vector<std::string_view> names{
        "production_without_approval", "production_without_test_signoff", "untested_artifact",
        "start_without_approval",      "self_approval",                   "unauthorized_actor",
        "unknown_actor",               "route_change_outside_window",     "route_without_agreement",
        "event_after_close",           "invalid_signature",               "late_recording",
        "key_compromised",             "emergency_change",                "undecodable_record",
        "non_canonical_record",        "recorded_at_mismatch",            "conflicting_duplicate"};
    return names;
}

namespace {

using namespace ledger::events;

void set_opt(entity_record& r, const char* name, const std::optional<std::string>& v) {
    if (v) r.set_field(name, *v);
}

/// Whether `word` (lower case) is in `text` as a whole word, in any case: bounded by the ends or
/// by characters that are not ASCII letters or digits ("Compromised." yes, "uncompromised" no).
bool contains_word(std::string text, std::string_view word) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    auto part_of_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const bool starts = at == 0 || !part_of_word(text[at - 1]);
        const bool ends = at + word.size() == text.size() || !part_of_word(text[at + word.size()]);
        if (starts && ends) return true;
    }
    return false;
}

}  // namespace

std::optional<std::string> state_after(const event& ev) {
    return std::visit(
        overloaded{
            [](const actor_registered&) -> std::optional<std::string> { return "registered"; },
            [](const change_requested&) -> std::optional<std::string> { return "requested"; },
            [](const change_approved& d) -> std::optional<std::string> {
                return d.gate == "production" ? "release_approved" : "approved";
            },
            [](const change_rejected&) -> std::optional<std::string> { return "rejected"; },
            [](const change_deployed& d) -> std::optional<std::string> {
                return d.environment == "production" ? "in_production" : "in_test";
            },
            [](const test_signed_off& d) -> std::optional<std::string> {
                return d.result == "passed" ? "test_passed" : "test_failed";
            },
            [](const change_rolled_back&) -> std::optional<std::string> { return "rolled_back"; },
            [](const change_verified&) -> std::optional<std::string> { return "verified"; },
            [](const change_closed&) -> std::optional<std::string> { return "closed"; },
            [](const route_ordered&) -> std::optional<std::string> { return "ordered"; },
            [](const route_activated&) -> std::optional<std::string> { return "active"; },
            [](const route_decommissioned&) -> std::optional<std::string> { return "decommissioned"; },
            [](const route_rolled_back&) -> std::optional<std::string> { return "rolled_back"; },
            [](const agreement_requested&) -> std::optional<std::string> { return "requested"; },
            [](const agreement_approved&) -> std::optional<std::string> { return "approved"; },
            [](const agreement_terminated&) -> std::optional<std::string> { return "terminated"; },
            [](const window_opened&) -> std::optional<std::string> { return "open"; },
            [](const window_closed&) -> std::optional<std::string> { return "closed"; },
            [](const key_issued&) -> std::optional<std::string> { return "issued"; },
            [](const key_activated&) -> std::optional<std::string> { return "active"; },
            [](const key_rotated&) -> std::optional<std::string> { return "rotated"; },
            [](const key_revoked&) -> std::optional<std::string> { return "revoked"; },
            [](const incident_reported&) -> std::optional<std::string> { return "reported"; },
            [](const incident_resolved&) -> std::optional<std::string> { return "resolved"; },
            [](const incident_closed&) -> std::optional<std::string> { return "closed"; },
            [](const maintenance_announced&) -> std::optional<std::string> { return "announced"; },
            [](const maintenance_completed&) -> std::optional<std::string> { return "completed"; },
            [](const service_registered&) -> std::optional<std::string> { return "up"; },
            [](const outage_started&) -> std::optional<std::string> { return "down"; },
            [](const outage_ended&) -> std::optional<std::string> { return "up"; },
            [](const report_submitted&) -> std::optional<std::string> { return "submitted"; },
            [](const report_approved&) -> std::optional<std::string> { return "approved"; },
            [](const report_rejected&) -> std::optional<std::string> { return "rejected"; },
            [](const request_submitted&) -> std::optional<std::string> { return "submitted"; },
            [](const request_acknowledged&) -> std::optional<std::string> { return "acknowledged"; },
            [](const request_qualified&) -> std::optional<std::string> { return "qualified"; },
            [](const request_analysed&) -> std::optional<std::string> { return "analysed"; },
            [](const access_granted&) -> std::optional<std::string> { return "granted"; },
            [](const access_reviewed&) -> std::optional<std::string> { return "granted"; },
            [](const access_revoked&) -> std::optional<std::string> { return "revoked"; },
            [](const calendar_holiday_added&) -> std::optional<std::string> { return "maintained"; },
            [](const calendar_holiday_removed&) -> std::optional<std::string> { return "maintained"; },
            [](const auto&) -> std::optional<std::string> { return std::nullopt; },
        },
        ev.data);
}

namespace {
/// A field or flag name joined from parts, in a buffer kept for the thread: no allocation per
/// event for names longer than a short string. Valid until the next call.
std::string_view key_of(std::string_view a, std::string_view b, std::string_view c = {}) {
    thread_local std::string buffer;
    buffer.assign(a).append(b).append(c);
    return buffer;
}
}  // namespace

void fold(entity_record& r, const event& ev) {
    if (r.entity.empty()) r.entity = ev.env.entity;
    r.system = ev.env.system;
    if (auto s = state_after(ev)) r.state = std::move(*s);
    const std::int64_t at = micros(ev.env.occurred);
    const std::string& actor = ev.env.actor;
    std::visit(overloaded{
                   [&](const actor_registered& d) {
                       r.set_field("name", d.name);
                       r.set_field("organization", d.organization);
                       r.set_field("kind", d.kind);
                   },
                   [&](const role_granted&) {},
                   [&](const role_revoked&) {},
                   [&](const change_requested& d) {
                       r.set_field("title", d.title);
                       r.set_field("category", d.category);
                       r.set_field("description", d.description);
                       if (d.emergency.value_or(false)) {
                           r.flags.insert("emergency");
                           r.set_field("emergency", "true");
                       }
                   },
                   [&](const change_approved& d) {
                       r.flags.insert("approved_" + d.gate);
                       r.set_field(key_of("approved_", d.gate, "_by"), actor);
                   },
                   [&](const change_rejected& d) {
                       r.set_field("rejected_gate", d.gate);
                       r.set_field("rejection_reason", d.reason);
                   },
                   [&](const change_deployed& d) {
                       r.deployers.insert(actor);
                       r.set_field(key_of(d.environment, "_artifact_digest"), d.artifact.digest);
                       r.set_field(key_of(d.environment, "_artifact"), d.artifact.name + " " + d.artifact.version);
                       r.set_field(key_of(d.environment, "_deployed_by"), actor);
                   },
                   [&](const test_signed_off& d) {
                       r.set_field("signed_off_by", actor);
                       r.set_field("signed_off_result", d.result);
                       r.set_field("signed_off_artifact_digest", d.artifact_digest);
                       if (d.result == "passed") {
                           r.flags.insert("test_passed");
                           r.set_field("passed_artifact_digest", d.artifact_digest);
                       }
                   },
                   [&](const change_rolled_back& d) {
                       r.set_field("rolled_back_environment", d.environment);
                       r.set_field("rollback_reason", d.reason);
                   },
                   [&](const change_verified& d) { r.set_field("verification_result", d.result); },
                   [&](const change_documented& d) { r.set_field("documentation", d.reference); },
                   [&](const change_closed& d) {
                       r.flags.insert("closed");
                       r.set_field("outcome", d.outcome);
                   },
                   [&](const agreement_requested& d) {
                       r.set_field("provider_system", d.provider_system);
                       r.set_field("consumer_system", d.consumer_system);
                       r.set_field("service", d.service);
                   },
                   [&](const agreement_approved&) { r.set_field("approved_by", actor); },
                   [&](const agreement_terminated& d) { r.set_field("termination_reason", d.reason); },
                   [&](const route_ordered& d) {
                       r.set_field("action", d.action);
                       r.set_field("transport", d.transport);
                       r.set_field("addressing", d.addressing);
                       r.set_field("sender_system", d.sender_system);
                       r.set_field("receiver_system", d.receiver_system);
                       r.set_field("order_id", d.order_id);
                       set_opt(r, "agreement", d.agreement);
                       set_opt(r, "replaces", d.replaces);
                   },
                   [&](const window_opened& d) { r.set_field("reason", d.reason); },
                   [&](const window_closed&) {},
                   [&](const route_activated& d) { r.set_field("window", d.window); },
                   [&](const route_decommissioned& d) {
                       r.set_field("window", d.window);
                       if (d.archived) r.set_field("archived", *d.archived ? "true" : "false");
                   },
                   [&](const route_rolled_back& d) {
                       r.set_field("window", d.window);
                       r.set_field("rollback_reason", d.reason);
                   },
                   [&](const key_issued& d) {
                       r.set_field("purpose", d.purpose);
                       r.set_field("owner", d.owner);
                       r.set_field("fingerprint", d.fingerprint);
                       r.set_field("not_after", d.not_after);
                       set_opt(r, "public_key", d.public_key);
                       if (auto t = micros_of(d.not_after)) r.times["not_after"] = *t;
                       r.times["issued"] = at;
                   },
                   [&](const key_activated&) { r.times.try_emplace("activated", at); },
                   [&](const key_rotated& d) {
                       r.set_field("successor", d.successor);
                       r.set_field("rotation_reason", d.reason);
                       r.times.try_emplace("rotated", at);
                   },
                   [&](const key_revoked& d) {
                       r.set_field("revocation_reason", d.reason);
                       r.times.try_emplace("revoked", at);
                   },
                   [&](const incident_reported& d) {
                       r.set_field("category", d.category);
                       r.set_field("service", d.service);
                       r.set_field("summary", d.summary);
                       r.times["reported"] = at;
                   },
                   [&](const incident_recategorized& d) { r.set_field("category", d.category); },
                   [&](const incident_workaround& d) { r.set_field("workaround", d.description); },
                   [&](const incident_resolved& d) { r.set_field("resolution", d.resolution); },
                   [&](const incident_feedback_sent&) { r.flags.insert("feedback_sent"); },
                   [&](const incident_closed&) { r.flags.insert("closed"); },
                   [&](const maintenance_announced& d) {
                       r.set_field("service", d.service);
                       r.set_field("starts_at", d.starts_at);
                       r.set_field("ends_at", d.ends_at);
                       r.set_field("impact", d.impact);
                   },
                   [&](const maintenance_completed&) {},
                   [&](const service_registered& d) {
                       r.set_field("environment", d.environment);
                       if (d.target) r.set_field("target", format_number(*d.target));
                   },
                   [&](const outage_started& d) { set_opt(r, "incident", d.incident); },
                   [&](const outage_ended&) {},
                   [&](const report_submitted& d) {
                       r.set_field("kind", d.kind);
                       r.set_field("period", d.period);
                       r.times["submitted"] = at;
                   },
                   [&](const report_approved& d) { set_opt(r, "comment", d.comment); },
                   [&](const report_rejected& d) { set_opt(r, "comment", d.comment); },
                   [&](const request_submitted& d) { r.set_field("title", d.title); },
                   [&](const request_acknowledged&) {},
                   [&](const request_qualified& d) { r.set_field("priority", d.priority); },
                   [&](const request_analysed&) {},
                   [&](const access_granted& d) {
                       r.set_field("subject", d.subject);
                       r.set_field("level", d.level);
                       set_opt(r, "expires_at", d.expires_at);
                       r.set_field("justification", d.justification);
                   },
                   [&](const access_reviewed& d) { r.set_field("review_outcome", d.outcome); },
                   [&](const access_revoked& d) { r.set_field("revocation_reason", d.reason); },
                   [&](const calendar_holiday_added& d) {
                       r.flags.insert("holiday:" + d.date);
                       r.flags.erase("not_holiday:" + d.date);
                   },
                   [&](const calendar_holiday_removed& d) {
                       r.flags.erase("holiday:" + d.date);
                       r.flags.insert("not_holiday:" + d.date);
                   },
               },
               ev.data);
    if (r.entity.starts_with("calendar/")) {
        std::string added, removed;
        for (const auto& f : r.flags) {
            if (f.starts_with("holiday:")) added += (added.empty() ? "" : ",") + f.substr(8);
            if (f.starts_with("not_holiday:")) removed += (removed.empty() ? "" : ",") + f.substr(12);
        }
        r.set_field("holidays_added", added);
        r.set_field("holidays_removed", removed);
    }
}

std::vector<std::string> roles_needed(const event& ev) {
    using v = std::vector<std::string>;
    return std::visit(overloaded{
                          [](const change_approved&) { return v{"system_manager"}; },
                          [](const change_rejected&) { return v{"system_manager"}; },
                          [](const test_signed_off&) { return v{"system_manager"}; },
                          [](const change_deployed&) { return v{"app_operator", "infra_operator"}; },
                          [](const agreement_approved&) { return v{"signatory"}; },
                          [](const window_opened&) { return v{"helpdesk"}; },
                          [](const window_closed&) { return v{"helpdesk"}; },
                          [](const route_activated&) { return v{"helpdesk"}; },
                          [](const route_decommissioned&) { return v{"helpdesk"}; },
                          [](const route_rolled_back&) { return v{"helpdesk"}; },
                          [](const access_granted&) { return v{"system_manager"}; },
                          [](const access_reviewed&) { return v{"system_manager"}; },
                          [](const access_revoked&) { return v{"system_manager"}; },
                          [](const calendar_holiday_added&) { return v{"system_manager"}; },
                          [](const calendar_holiday_removed&) { return v{"system_manager"}; },
                          [](const auto&) { return v{}; },
                      },
                      ev.data);
}

bool holds_role(const std::vector<grant>& grants, const std::vector<std::string>& roles, const std::string& system,
                std::int64_t at_us) {
    return std::any_of(grants.begin(), grants.end(), [&](const grant& g) {
        return std::find(roles.begin(), roles.end(), g.role) != roles.end() &&
               (g.system == "*" || g.system == system) && g.from_us <= at_us &&
               (!g.until_us || at_us <= *g.until_us) && (!g.revoked_us || at_us < *g.revoked_us);
    });
}

std::vector<raised> judge(const recorded_event& rec, const entity_record& before, lookup& look) {
    const event& ev = rec.ev;
    const std::int64_t at = micros(ev.env.occurred);
    const std::string& actor = ev.env.actor;
    std::vector<raised> out;
    auto raise = [&](std::string finding, std::string detail, std::string severity = "violation") {
        out.push_back(raised{std::move(finding), std::move(detail), std::move(severity)});
    };

    if (const auto* d = std::get_if<change_deployed>(&ev.data)) {
        if (d->environment == "production") {
            if (!before.has("approved_production")) {
                raise("production_without_approval",
                      fmt::format("{} deployed to production with no earlier production approval", ev.env.entity));
            }
            if (!before.has("test_passed")) {
                if (before.has("emergency")) {
                    raise("emergency_change",
                          fmt::format("emergency change {} deployed to production with no passed test sign-off",
                                      ev.env.entity),
                          "info");
                } else {
                    raise("production_without_test_signoff",
                          fmt::format("{} deployed to production with no earlier passed test sign-off", ev.env.entity));
                }
            } else if (const auto passed = before.field("passed_artifact_digest");
                       passed && *passed != d->artifact.digest) {
                raise("untested_artifact", fmt::format("production artifact {} differs from the signed-off {}",
                                                       d->artifact.digest, *passed));
            }
        } else if (!before.has("approved_start")) {
            raise("start_without_approval",
                  fmt::format("{} deployed to test with no earlier start approval", ev.env.entity));
        }
    }
    const auto* approval = std::get_if<change_approved>(&ev.data);
    if ((std::holds_alternative<test_signed_off>(ev.data) || (approval && approval->gate == "production")) &&
        before.deployers.count(actor) > 0) {
        raise("self_approval", fmt::format("{} {} {}, which they deployed", actor,
                                           approval ? "approved for production" : "signed off the test of",
                                           ev.env.entity));
    }

    const bool self_registration = std::holds_alternative<actor_registered>(ev.data) && ev.env.entity_id == actor;
    const auto actor_record = look.entity("actor/" + actor);
    const bool known = self_registration || (actor_record && actor_record->state == "registered");
    if (known) {
        if (const auto needed = roles_needed(ev); !needed.empty()) {
            if (!holds_role(look.grants_of(actor), needed, ev.env.system, at)) {
                std::string list;
                for (const auto& r : needed) list += (list.empty() ? "" : " or ") + r;
                raise("unauthorized_actor", fmt::format("{} did not hold {} for {} at {} ({})", actor, list,
                                                        ev.env.system, ev.env.occurred_at, ev.env.type));
            }
        }
    } else {
        raise("unknown_actor", fmt::format("{} is not a registered actor", actor));
    }

    const std::string* window = nullptr;
    if (const auto* d = std::get_if<route_activated>(&ev.data)) window = &d->window;
    if (const auto* d = std::get_if<route_decommissioned>(&ev.data)) window = &d->window;
    if (const auto* d = std::get_if<route_rolled_back>(&ev.data)) window = &d->window;
    if (window) {
        const auto w = look.entity("window/" + *window);
        if (!w || w->state != "open") {
            raise("route_change_outside_window",
                  fmt::format("{} {} while window {} was {}", ev.env.entity, ev.env.type.substr(6), *window,
                              w ? w->state : "unknown"));
        }
    }
    if (std::holds_alternative<route_activated>(ev.data) && before.field("transport") == "webservice") {
        const auto agreement = before.field("agreement");
        const auto* a = agreement ? look.entity("agreement/" + *agreement) : nullptr;
        if (!a || a->state != "approved") {
            raise("route_without_agreement",
                  agreement ? fmt::format("webservice route {} activated while agreement {} was {}", ev.env.entity,
                                          *agreement, a ? a->state : "unknown")
                            : fmt::format("webservice route {} activated with no agreement", ev.env.entity));
        }
    }

    if (before.has("closed") && (ev.env.kind == entity_kind::change || ev.env.kind == entity_kind::incident)) {
        raise("event_after_close", fmt::format("{} on {} after it was closed", ev.env.type, ev.env.entity));
    }

    if (ev.env.signature) {
        const auto& sig = *ev.env.signature;
        std::string problem;
        const auto key = look.entity(sig.key);
        const auto pub = key ? key->field("public_key") : std::nullopt;
        if (!key) {
            problem = fmt::format("signing key {} is unknown", sig.key);
        } else if (key->field("purpose") != "signing" || !pub) {
            problem = fmt::format("{} is not a signing key with a public_key", sig.key);
        } else if (!key->time("activated") || *key->time("activated") > at) {
            problem = fmt::format("{} was not active at {}", sig.key, ev.env.occurred_at);
        } else if (key->time("revoked") && *key->time("revoked") <= at) {
            problem = fmt::format("{} was revoked before {}", sig.key, ev.env.occurred_at);
        } else if (key->time("not_after") && *key->time("not_after") < at) {
            problem = fmt::format("{} had expired at {}", sig.key, ev.env.occurred_at);
        } else {
            nlohmann::json unsigned_event = ev.posted;
            unsigned_event.erase("signature");
            const auto public_key = base64_decode(*pub);
            const auto signature = base64_decode(sig.sig);
            if (!public_key || !signature ||
                !ed25519_verify(*public_key, canonicalize(unsigned_event), *signature)) {
                problem = fmt::format("the signature does not verify with {}", sig.key);
            }
        }
        if (!problem.empty()) raise("invalid_signature", problem);
    }

    if (rec.recorded - ev.env.occurred > late_recording_after) {
        const auto hours = std::chrono::duration_cast<std::chrono::minutes>(rec.recorded - ev.env.occurred).count() / 60.0;
        raise("late_recording", fmt::format("recorded {} ({:.1f} h after it occurred at {})", rec.recorded_at, hours,
                                            ev.env.occurred_at));
    }

    if (const auto* d = std::get_if<key_rotated>(&ev.data); d && d->reason == "compromised") {
        raise("key_compromised", fmt::format("{} rotated to {} because it was compromised", ev.env.entity, d->successor));
    }
    if (const auto* d = std::get_if<key_revoked>(&ev.data); d && contains_word(d->reason, "compromised")) {
        raise("key_compromised", fmt::format("{} revoked: {}", ev.env.entity, d->reason));
    }
    return out;
}

}  // namespace ledger::projections
