// The SLA obligations of domain.md 3.3 as pure logic: events folded and applied in ledger order
// to an in-memory state, then each obligation read as of chosen times. Every obligation is met,
// breached and (where it applies) waived; recategorisation; the report's approval by default;
// the key rotation warning; the monthly calendar obligations.
#include <map>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/event.h"
#include "events/time.h"
#include "projections/obligations.h"
#include "projections/rules.h"
#include "projections/sla_queries.h"

using namespace ledger;
using namespace ledger::projections;
using nlohmann::json;

namespace {

std::int64_t us(const std::string& rfc3339) {
    const auto t = events::parse_rfc3339(rfc3339);
    REQUIRE(t.problem == events::time_problem::none);
    return t.at.time_since_epoch().count();
}

struct mem_state final : sla_state {
    std::map<std::string, entity_record> entities;
    std::map<std::string, obligation_row> obligations;
    std::map<std::string, std::string> links;
    std::map<std::string, report_fact> reports;

    const entity_record* entity(const std::string& key) override {
        const auto it = entities.find(key);
        return it == entities.end() ? nullptr : &it->second;
    }
    const obligation_row* find_obligation(const std::string& key) override { return obligation(key); }
    obligation_row* obligation(const std::string& key) override {
        const auto it = obligations.find(key);
        return it == obligations.end() ? nullptr : &it->second;
    }
    obligation_row& put_obligation(const std::string& key, obligation_row row) override {
        return obligations[key] = std::move(row);
    }
    std::optional<std::string> link(const std::string& key) override {
        const auto it = links.find(key);
        return it == links.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    void set_link(const std::string& key, const std::string& value) override { links[key] = value; }
    void first_report(const std::string& kind, const std::string& period, const report_fact& fact) override {
        reports.try_emplace(kind + "/" + period, fact);
    }
};

struct sla_fixture {
    sla_policy policy;
    calendar cal{policy.hours};
    sla_engine engine{policy, cal};
    mem_state st;
    std::int64_t offset = 0;

    void post(const std::string& type, const std::string& entity, const std::string& occurred_at, json data = json::object(),
              const std::string& system = "AGRESSO") {
        json posted{{"id", fmt::format("e0000000-0000-4000-8000-{:012}", offset + 1)},
                    {"type", type},
                    {"entity", entity},
                    {"system", system},
                    {"actor", "kari"},
                    {"occurred_at", occurred_at},
                    {"data", std::move(data)}};
        auto ev = events::decode_event(posted, std::nullopt);
        if (!ev) FAIL(ev.error().message);
        events::recorded_event rec{std::move(ev).value(), "test", occurred_at, {}};
        rec.recorded = rec.ev.env.occurred;
        auto& e = st.entities[entity];
        fold(e, rec.ev);
        engine.apply(rec, offset++, e, st);
    }

    const obligation_row& row(const std::string& entity, const std::string& obligation, std::uint64_t n = 0) {
        const auto* o = st.obligation(obligation_key(entity, obligation, n));
        REQUIRE(o != nullptr);
        return *o;
    }
    obligation_view at(const std::string& entity, const std::string& obligation, const std::string& t,
                       std::uint64_t n = 0) {
        const auto v = obligation_at(row(entity, obligation, n), us(t));
        REQUIRE(v.has_value());
        return *v;
    }
    bool exists(const std::string& entity, const std::string& obligation, std::uint64_t n = 0) {
        return st.obligation(obligation_key(entity, obligation, n)) != nullptr;
    }
};

json incident(const char* category) { return {{"category", category}, {"service", "altinn"}, {"summary", "down"}}; }

}  // namespace

TEST_CASE("incident_resolution by category: A 5 h, B 8 h from the next opening, C 3 working days") {
    struct row {
        const char* category;
        const char* reported;
        const char* due;
    };
    const row rows[] = {
        {"A", "2026-11-20T18:00:00+01:00", "2026-11-20T23:00:00+01:00"},
        {"A", "2026-03-29T00:30:00+01:00", "2026-03-29T06:30:00+02:00"},  // 5 real hours across the switch
        {"B", "2026-11-20T18:00:00+01:00", "2026-11-23T16:00:00+01:00"},  // Friday evening → Monday
        {"B", "2026-11-23T09:00:00+01:00", "2026-11-23T17:00:00+01:00"},  // within opening hours
        {"B", "2025-05-15T15:30:00+02:00", "2025-05-16T16:00:00+02:00"},  // summer: closed at 15:00
        {"C", "2026-11-20T18:00:00+01:00", "2026-11-26T00:00:00+01:00"},  // Mon, Tue, Wed
        {"C", "2026-12-23T10:00:00+01:00", "2026-12-30T00:00:00+01:00"},  // 24, 28, 29 Dec
    };
    for (const auto& r : rows) {
        INFO(r.category << " reported " << r.reported);
        sla_fixture f;
        f.post("incident.reported", "incident/I1", r.reported, incident(r.category));
        CHECK(f.row("incident/I1", "incident_resolution").final_due() == us(r.due));
        CHECK(f.at("incident/I1", "incident_resolution", r.reported).state == obligation_state::open);
    }
}

TEST_CASE("incident_resolution met, met late, breached unmet, and waived by a workaround (C)") {
    sla_fixture f;
    f.post("incident.reported", "incident/A1", "2026-11-23T09:00:00+01:00", incident("A"));
    f.post("incident.resolved", "incident/A1", "2026-11-23T14:00:00+01:00", {{"resolution", "restarted"}});
    auto v = f.at("incident/A1", "incident_resolution", "2026-11-30T00:00:00+01:00");
    CHECK(v.state == obligation_state::met);  // exactly at the due is on time
    CHECK(v.late_seconds == 0);

    f.post("incident.reported", "incident/A2", "2026-11-23T09:00:00+01:00", incident("A"));
    f.post("incident.resolved", "incident/A2", "2026-11-23T14:30:00+01:00", {{"resolution", "restarted"}});
    v = f.at("incident/A2", "incident_resolution", "2026-11-30T00:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 1800);
    REQUIRE(v.met_us);
    CHECK(*v.met_us == us("2026-11-23T14:30:00+01:00"));
    // As of a time before the resolution but after the due: breached, lateness so far.
    v = f.at("incident/A2", "incident_resolution", "2026-11-23T14:10:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 600);
    CHECK_FALSE(v.met_us);
    // Before the due: open. Before the report: it does not exist.
    CHECK(f.at("incident/A2", "incident_resolution", "2026-11-23T13:59:59+01:00").state == obligation_state::open);
    CHECK_FALSE(obligation_at(f.row("incident/A2", "incident_resolution"), us("2026-11-23T08:00:00+01:00")));

    f.post("incident.reported", "incident/C1", "2026-11-23T09:00:00+01:00", incident("C"));
    f.post("incident.workaround", "incident/C1", "2026-11-25T10:00:00+01:00", {{"description", "manual export"}});
    CHECK(f.at("incident/C1", "incident_resolution", "2026-12-31T00:00:00+01:00").state == obligation_state::waived);
    CHECK(f.at("incident/C1", "incident_resolution", "2026-11-24T00:00:00+01:00").state == obligation_state::open);

    // A workaround after the deadline does not waive it.
    f.post("incident.reported", "incident/C2", "2026-11-23T09:00:00+01:00", incident("C"));
    f.post("incident.workaround", "incident/C2", "2026-11-27T10:00:00+01:00", {{"description", "too late"}});
    v = f.at("incident/C2", "incident_resolution", "2026-11-27T12:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 12 * 3600);  // due Thu 26 Nov 24:00 → Fri 12:00

    // A workaround on a category A incident waives nothing.
    f.post("incident.reported", "incident/A3", "2026-11-23T09:00:00+01:00", incident("A"));
    f.post("incident.workaround", "incident/A3", "2026-11-23T10:00:00+01:00", {{"description", "partial"}});
    CHECK(f.at("incident/A3", "incident_resolution", "2026-11-23T15:00:00+01:00").state == obligation_state::breached);
}

TEST_CASE("Recategorising an incident recomputes its deadline from the original report") {
    sla_fixture f;
    // Reported Friday evening as C (due end of Wednesday), recategorised to B on Saturday: B
    // counts 8 h from the next opening after the *report*, Monday 08:00.
    f.post("incident.reported", "incident/R1", "2026-11-20T18:00:00+01:00", incident("C"));
    f.post("incident.recategorized", "incident/R1", "2026-11-21T10:00:00+01:00", {{"category", "B"}});
    CHECK(f.row("incident/R1", "incident_resolution").final_due() == us("2026-11-23T16:00:00+01:00"));
    f.post("incident.resolved", "incident/R1", "2026-11-23T17:00:00+01:00", {{"resolution", "patched"}});
    auto v = f.at("incident/R1", "incident_resolution", "2026-11-24T00:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 3600);
    // As of before the recategorisation, the C deadline applied.
    v = f.at("incident/R1", "incident_resolution", "2026-11-21T09:00:00+01:00");
    CHECK(v.state == obligation_state::open);
    CHECK(v.due_us == us("2026-11-26T00:00:00+01:00"));

    // A to C after a workaround: the workaround (before the new deadline) now waives it.
    f.post("incident.reported", "incident/R2", "2026-11-23T09:00:00+01:00", incident("A"));
    f.post("incident.workaround", "incident/R2", "2026-11-23T10:00:00+01:00", {{"description", "bypass"}});
    f.post("incident.recategorized", "incident/R2", "2026-11-23T11:00:00+01:00", {{"category", "C"}});
    CHECK(f.row("incident/R2", "incident_resolution").final_due() == us("2026-11-27T00:00:00+01:00"));
    CHECK(f.at("incident/R2", "incident_resolution", "2026-12-01T00:00:00+01:00").state == obligation_state::waived);
}

TEST_CASE("incident_feedback: 1 h after resolving an A or B incident, none for C") {
    sla_fixture f;
    f.post("incident.reported", "incident/F1", "2026-11-23T09:00:00+01:00", incident("B"));
    f.post("incident.resolved", "incident/F1", "2026-11-23T12:00:00+01:00", {{"resolution", "fixed"}});
    f.post("incident.feedback_sent", "incident/F1", "2026-11-23T12:45:00+01:00");
    CHECK(f.at("incident/F1", "incident_feedback", "2026-11-24T00:00:00+01:00").state == obligation_state::met);

    f.post("incident.reported", "incident/F2", "2026-11-23T09:00:00+01:00", incident("A"));
    f.post("incident.resolved", "incident/F2", "2026-11-23T12:00:00+01:00", {{"resolution", "fixed"}});
    auto v = f.at("incident/F2", "incident_feedback", "2026-11-23T13:30:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 1800);
    f.post("incident.feedback_sent", "incident/F2", "2026-11-23T14:00:00+01:00");
    v = f.at("incident/F2", "incident_feedback", "2026-11-24T00:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 3600);

    f.post("incident.reported", "incident/F3", "2026-11-23T09:00:00+01:00", incident("C"));
    f.post("incident.resolved", "incident/F3", "2026-11-23T12:00:00+01:00", {{"resolution", "fixed"}});
    CHECK_FALSE(f.exists("incident/F3", "incident_feedback"));
}

TEST_CASE("maintenance_notice: 5 working days before starts_at (3 for seres); a late notice is a breach at once") {
    sla_fixture f;
    f.post("service.registered", "service/altinn", "2026-01-01T00:00:00+01:00", {{"environment", "production"}});
    f.post("service.registered", "service/seres", "2026-01-01T00:00:00+01:00", {{"environment", "seres"}});
    auto maint = [](const char* service) {
        return json{{"service", service}, {"starts_at", "2026-11-30T18:00:00+01:00"},
                    {"ends_at", "2026-11-30T20:00:00+01:00"}, {"impact", "down"}};
    };
    // Starts Monday 30 Nov: an on-time notice has 5 working days strictly between → Sunday 22.
    f.post("maintenance.announced", "maintenance/M1", "2026-11-22T23:00:00+01:00", maint("altinn"));
    auto v = f.at("maintenance/M1", "maintenance_notice", "2026-11-22T23:00:00+01:00");
    CHECK(v.state == obligation_state::met);
    CHECK(v.due_us == us("2026-11-23T00:00:00+01:00"));

    f.post("maintenance.announced", "maintenance/M2", "2026-11-23T09:00:00+01:00", maint("altinn"));
    v = f.at("maintenance/M2", "maintenance_notice", "2026-11-23T09:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 9 * 3600);

    // seres: 3 days → by Tuesday 24 Nov.
    f.post("maintenance.announced", "maintenance/M3", "2026-11-24T15:00:00+01:00", maint("seres"));
    CHECK(f.at("maintenance/M3", "maintenance_notice", "2026-11-24T15:00:00+01:00").state == obligation_state::met);
    f.post("maintenance.announced", "maintenance/M4", "2026-11-25T08:00:00+01:00", maint("seres"));
    CHECK(f.at("maintenance/M4", "maintenance_notice", "2026-11-25T08:00:00+01:00").state == obligation_state::breached);
}

TEST_CASE("request_feedback, request_qualification and request_analysis in working days") {
    sla_fixture f;
    // Submitted Wed 16 Dec 2026: 5 working days → 17, 18, 21, 22, 23 → by 24 Dec 00:00.
    f.post("request.submitted", "request/Q1", "2026-12-16T10:00:00+01:00", {{"title", "new report"}});
    CHECK(f.row("request/Q1", "request_feedback").final_due() == us("2026-12-24T00:00:00+01:00"));
    // 20 working days: 17,18,21,22,23,24,28,29,30,31 (10), Jan 4-8 (15), Jan 11-15 (20).
    CHECK(f.row("request/Q1", "request_qualification").final_due() == us("2027-01-16T00:00:00+01:00"));
    f.post("request.acknowledged", "request/Q1", "2026-12-23T23:59:00+01:00");
    CHECK(f.at("request/Q1", "request_feedback", "2027-02-01T00:00:00+01:00").state == obligation_state::met);
    CHECK(f.at("request/Q1", "request_qualification", "2027-01-16T00:00:01+01:00").state == obligation_state::breached);
    f.post("request.qualified", "request/Q1", "2027-01-18T09:00:00+01:00", {{"priority", "high"}});
    auto v = f.at("request/Q1", "request_qualification", "2027-02-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == (2 * 24 + 9) * 3600);
    // High priority: analysis within 20 working days of the qualification.
    CHECK(f.row("request/Q1", "request_analysis").final_due() == us("2027-02-16T00:00:00+01:00"));
    f.post("request.analysed", "request/Q1", "2027-02-10T09:00:00+01:00");
    CHECK(f.at("request/Q1", "request_analysis", "2027-03-01T00:00:00+01:00").state == obligation_state::met);

    f.post("request.submitted", "request/Q2", "2026-12-16T10:00:00+01:00", {{"title", "low"}});
    f.post("request.qualified", "request/Q2", "2026-12-17T10:00:00+01:00", {{"priority", "normal"}});
    CHECK_FALSE(f.exists("request/Q2", "request_analysis"));
    CHECK(f.at("request/Q2", "request_feedback", "2026-12-24T00:00:01+01:00").state == obligation_state::breached);
}

TEST_CASE("report_approval: 5 days, then approved_by_default (not a breach)") {
    sla_fixture f;
    const json uptime{{"kind", "uptime"}, {"period", "2026-10"}};
    f.post("report.submitted", "report/U1", "2026-11-10T12:00:00+01:00", uptime);
    f.post("report.approved", "report/U1", "2026-11-14T12:00:00+01:00");
    auto v = f.at("report/U1", "report_approval", "2026-12-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::met);
    CHECK_FALSE(v.approved_by_default);

    f.post("report.submitted", "report/U2", "2026-11-10T12:00:00+01:00", uptime);
    CHECK(f.at("report/U2", "report_approval", "2026-11-15T11:59:59+01:00").state == obligation_state::open);
    v = f.at("report/U2", "report_approval", "2026-11-15T12:00:00+01:00");
    CHECK(v.state == obligation_state::met);
    CHECK(v.approved_by_default);
    // An answer after the five days changes nothing: it was approved by default.
    f.post("report.rejected", "report/U2", "2026-11-20T12:00:00+01:00");
    v = f.at("report/U2", "report_approval", "2026-12-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::met);
    CHECK(v.approved_by_default);

    // Only uptime reports need the approval.
    f.post("report.submitted", "report/S1", "2026-11-10T12:00:00+01:00", {{"kind", "status"}, {"period", "2026-10"}});
    CHECK_FALSE(f.exists("report/S1", "report_approval"));
}

TEST_CASE("uptime_report and status_report: every month, by the 10th and 15th of the next") {
    sla_fixture f;
    f.post("report.submitted", "report/U10", "2026-11-10T23:59:00+01:00", {{"kind", "uptime"}, {"period", "2026-10"}});
    f.post("report.submitted", "report/S10", "2026-11-16T08:00:00+01:00", {{"kind", "status"}, {"period", "2026-10"}});
    using std::chrono::October;
    using std::chrono::year;
    const auto up = calendar_obligation("uptime_report", year{2026} / October, f.st.reports.at("uptime/2026-10"),
                                        f.policy, f.cal);
    CHECK(up.final_due() == us("2026-11-11T00:00:00+01:00"));
    CHECK(up.entity == "report/U10");
    CHECK(obligation_at(up, us("2026-12-01T00:00:00+01:00"))->state == obligation_state::met);
    const auto status = calendar_obligation("status_report", year{2026} / October, f.st.reports.at("status/2026-10"),
                                            f.policy, f.cal);
    CHECK(status.final_due() == us("2026-11-16T00:00:00+01:00"));
    auto v = obligation_at(status, us("2026-12-01T00:00:00+01:00"));
    CHECK(v->state == obligation_state::breached);
    CHECK(v->late_seconds == 8 * 3600);
    // No report for September: open in October, breached after 10 October.
    const auto none = calendar_obligation("uptime_report", year{2026} / std::chrono::September, std::nullopt, f.policy, f.cal);
    CHECK(obligation_at(none, us("2026-10-10T23:00:00+02:00"))->state == obligation_state::open);
    CHECK(obligation_at(none, us("2026-10-11T00:00:01+02:00"))->state == obligation_state::breached);
    CHECK_FALSE(obligation_at(none, us("2026-08-31T12:00:00+02:00")));
}

TEST_CASE("key_rotation: before not_after, met by the successor's activation or a revocation, warned 30 days ahead") {
    sla_fixture f;
    auto issued = [](const char* not_after) {
        return json{{"purpose", "seal"}, {"owner", "bank"}, {"fingerprint", "sha256:" + std::string(64, 'a')}, {"not_after", not_after}};
    };
    f.post("key.issued", "key/K1", "2026-01-01T00:00:00+01:00", issued("2026-12-31T00:00:00+01:00"));
    f.post("key.activated", "key/K1", "2026-01-02T00:00:00+01:00");
    auto v = f.at("key/K1", "key_rotation", "2026-11-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::open);
    CHECK_FALSE(v.warning);
    v = f.at("key/K1", "key_rotation", "2026-12-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::open);
    CHECK(v.warning);
    f.post("key.issued", "key/K2", "2026-12-01T00:00:00+01:00", issued("2027-12-31T00:00:00+01:00"));
    f.post("key.rotated", "key/K1", "2026-12-10T00:00:00+01:00", {{"successor", "K2"}, {"reason", "scheduled"}});
    CHECK(f.at("key/K1", "key_rotation", "2026-12-15T00:00:00+01:00").state == obligation_state::open);
    f.post("key.activated", "key/K2", "2026-12-20T00:00:00+01:00");
    v = f.at("key/K1", "key_rotation", "2027-02-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::met);
    CHECK(*v.met_us == us("2026-12-20T00:00:00+01:00"));
    CHECK(f.at("key/K2", "key_rotation", "2027-02-01T00:00:00+01:00").state == obligation_state::open);

    // Not rotated in time: breached at not_after, late up to the time asked.
    f.post("key.issued", "key/K3", "2026-01-01T00:00:00+01:00", issued("2026-06-01T00:00:00+02:00"));
    f.post("key.activated", "key/K3", "2026-01-02T00:00:00+01:00");
    v = f.at("key/K3", "key_rotation", "2026-06-02T00:00:00+02:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 86400);
    CHECK_FALSE(v.warning);
    // Revoked in time: met.
    f.post("key.issued", "key/K4", "2026-01-01T00:00:00+01:00", issued("2026-06-01T00:00:00+02:00"));
    f.post("key.activated", "key/K4", "2026-01-02T00:00:00+01:00");
    f.post("key.revoked", "key/K4", "2026-03-01T00:00:00+01:00", {{"reason", "compromised"}});
    CHECK(f.at("key/K4", "key_rotation", "2026-07-01T00:00:00+02:00").state == obligation_state::met);
}

TEST_CASE("access_expiry and access_review") {
    sla_fixture f;
    f.post("access.granted", "access/X1", "2026-01-05T09:00:00+01:00",
           {{"subject", "consultant"}, {"level", "admin"}, {"expires_at", "2026-01-12T09:00:00+01:00"},
            {"justification", "upgrade"}});
    CHECK(f.at("access/X1", "access_expiry", "2026-01-12T09:00:00+01:00").state == obligation_state::open);
    auto v = f.at("access/X1", "access_expiry", "2026-01-12T10:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 3600);
    f.post("access.revoked", "access/X1", "2026-01-13T09:00:00+01:00", {{"reason", "done"}});
    v = f.at("access/X1", "access_expiry", "2026-02-01T00:00:00+01:00");
    CHECK(v.state == obligation_state::breached);
    CHECK(v.late_seconds == 86400);
    CHECK(f.at("access/X1", "access_review", "2026-02-01T00:00:00+01:00", 1).state == obligation_state::met);

    f.post("access.granted", "access/X2", "2026-01-05T09:00:00+01:00",
           {{"subject", "dba"}, {"level", "admin"}, {"justification", "operations"}});
    CHECK_FALSE(f.exists("access/X2", "access_expiry"));
    CHECK(f.row("access/X2", "access_review", 1).final_due() == us("2027-01-05T09:00:00+01:00"));
    f.post("access.reviewed", "access/X2", "2026-12-01T09:00:00+01:00", {{"outcome", "kept"}});
    CHECK(f.at("access/X2", "access_review", "2027-06-01T00:00:00+02:00", 1).state == obligation_state::met);
    // The next review is due a year after the last one; unmet, it is breached.
    CHECK(f.row("access/X2", "access_review", 2).final_due() == us("2027-12-01T09:00:00+01:00"));
    CHECK(f.at("access/X2", "access_review", "2027-12-02T09:00:00+01:00", 2).state == obligation_state::breached);

    f.post("access.granted", "access/X3", "2026-01-05T09:00:00+01:00",
           {{"subject", "reader"}, {"level", "read"}, {"justification", "audit"}});
    CHECK_FALSE(f.exists("access/X3", "access_review", 1));
}

TEST_CASE("calendar.holiday_added moves working-day deadlines") {
    sla_fixture f;
    f.post("calendar.holiday_added", "calendar/oslo", "2026-12-01T00:00:00+01:00", {{"date", "2026-12-24"}});
    f.post("incident.reported", "incident/H1", "2026-12-23T10:00:00+01:00", incident("C"));
    CHECK(f.row("incident/H1", "incident_resolution").final_due() == us("2026-12-31T00:00:00+01:00"));
    f.post("calendar.holiday_removed", "calendar/oslo", "2026-12-01T00:00:00+01:00", {{"date", "2026-12-24"}});
    f.post("incident.reported", "incident/H2", "2026-12-23T10:00:00+01:00", incident("C"));
    CHECK(f.row("incident/H2", "incident_resolution").final_due() == us("2026-12-30T00:00:00+01:00"));
    CHECK(f.st.links.at("holiday:2026-12-24") == "0");
}

TEST_CASE("The list writer prints each obligation as obligation_json does") {
    sla_fixture f;
    f.post("incident.reported", "incident/J1", "2026-11-23T09:00:00+01:00", incident("A"));
    f.post("incident.resolved", "incident/J1", "2026-11-23T14:30:00+01:00", {{"resolution", "x"}});
    f.post("report.submitted", "report/J2", "2026-11-10T12:00:00+01:00", {{"kind", "uptime"}, {"period", "2026-10"}});
    f.post("key.issued", "key/J3", "2026-01-01T00:00:00+01:00",
           {{"purpose", "seal"}, {"owner", "bank"}, {"fingerprint", "sha256:" + std::string(64, 'b')},
            {"not_after", "2026-12-31T00:00:00+01:00"}});
    f.post("key.activated", "key/J3", "2026-01-02T00:00:00+01:00");
    f.post("incident.reported", "incident/J\"4", "2026-11-23T09:00:00+01:00", incident("C"));
    std::vector<obligation_row> rows;
    for (const auto& [key, row] : f.st.obligations) rows.push_back(row);
    rows.push_back(calendar_obligation("status_report", std::chrono::year{2026} / std::chrono::October, std::nullopt,
                                       f.policy, f.cal));
    for (const auto& row : rows) {
        for (const char* t : {"2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z"}) {
            const auto v = obligation_at(row, us(t));
            if (!v) continue;
            std::string text;
            append_obligation(text, row, *v);
            INFO(text);
            CHECK(json::parse(text) == obligation_json(row, *v));
        }
    }
}
