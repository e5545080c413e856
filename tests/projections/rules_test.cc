// The state tables (domain.md 3.1) and every compliance finding (3.2), each with a case that
// raises it and one that does not, through the real projector on a temporary LMDB directory
// (no Kafka: records are made exactly as the gateway makes them).

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "events/event.h"
#include "events/time.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/store.h"
#include "projections/times.h"
#include "projections/verify.h"

using namespace ledger;
using namespace ledger::projections;
using nlohmann::json;

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        path = std::filesystem::temp_directory_path() / ("ledger-rules-" + std::to_string(std::random_device{}()));
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

std::string digest_hex(int n) {
    std::string h = "sha256:";
    for (int i = 0; i < 64; ++i) h.push_back("0123456789abcdef"[(n + i) % 16]);
    return h;
}

/// The record of change.requested number `n` (its id), as the ledger writes it.
std::string change_requested_record(int n, const std::string& entity, const std::string& actor,
                                    const std::string& system = "AGRESSO") {
    json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", n)},
            {"type", "change.requested"},
            {"entity", entity},
            {"system", system},
            {"actor", actor},
            {"occurred_at", "2026-03-02T08:00:00+01:00"},
            {"data", {{"title", "t"}, {"category", "patch"}, {"description", "d"}}}};
    return events::record_bytes(ev, "tool", "2026-03-02T07:01:00Z");
}

struct ledger_fixture {
    temp_dir dir;
    std::unique_ptr<store> s;
    std::unique_ptr<projector> p;
    std::int64_t next = 0;
    int minute = 0;
    int ids = 0;

    explicit ledger_fixture(bool directory = true) {
        s = store::open(dir.path, "ledger.test", true).value();
        p = std::make_unique<projector>(*s);
        if (!directory) return;
        post("actor.registered", "actor/admin", "admin", {{"name", "Admin"}, {"organization", "Org"}, {"kind", "person"}});
        for (const char* a : {"ola", "kari", "hans", "signe", "per"}) {
            post("actor.registered", std::string("actor/") + a, "admin",
                 {{"name", a}, {"organization", "Org"}, {"kind", "person"}});
        }
        post("role.granted", "actor/ola", "admin", {{"role", "app_operator"}, {"system", "AGRESSO"}});
        post("role.granted", "actor/per", "admin", {{"role", "infra_operator"}, {"system", "*"}});
        post("role.granted", "actor/kari", "admin", {{"role", "system_manager"}, {"system", "AGRESSO"}});
        post("role.granted", "actor/hans", "admin", {{"role", "helpdesk"}, {"system", "*"}});
        post("role.granted", "actor/signe", "admin", {{"role", "signatory"}, {"system", "*"}});
    }

    std::string occurred_at() const {
        // 2026-03-02 from 08:00 local (+01:00), a minute per event.
        return fmt::format("2026-03-02T{:02}:{:02}:00+01:00", 8 + minute / 60, minute % 60);
    }

    /// Posts one event; returns its offset. `late` shifts recorded_at after occurred_at.
    std::int64_t post(const std::string& type, const std::string& entity, const std::string& actor, json data,
                      std::chrono::minutes late = std::chrono::minutes(1), const std::string& system = "AGRESSO",
                      const std::optional<json>& signature = std::nullopt) {
        json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", ++ids)},
                {"type", type},
                {"entity", entity},
                {"system", system},
                {"actor", actor},
                {"occurred_at", occurred_at()}};
        if (!data.empty()) ev["data"] = std::move(data);
        if (signature) ev["signature"] = *signature;
        return post_json(ev, late);
    }

    std::int64_t post_json(const json& ev, std::chrono::minutes late = std::chrono::minutes(1)) {
        const auto occurred = events::parse_rfc3339(ev["occurred_at"].get<std::string>()).at;
        const auto bytes = events::record_bytes(ev, "tool", events::format_utc(occurred + late));
        ++minute;
        return raw(bytes);
    }

    std::int64_t raw(const std::string& bytes) {
        const auto offset = next++;
        auto r = p->apply({raw_record{offset, bytes}});
        REQUIRE(r);
        return offset;
    }

    bool raised(std::int64_t offset, const std::string& finding) {
        const auto all = findings(*s, {});
        for (const auto& f : all["findings"]) {
            if (f["offset"] == offset && f["finding"] == finding) return true;
        }
        return false;
    }
    std::size_t findings_at(std::int64_t offset) {
        std::size_t n = 0;
        const auto all = findings(*s, {});
        for (const auto& f : all["findings"]) n += f["offset"] == offset ? 1 : 0;
        return n;
    }
    std::string state(const std::string& entity) { return entity_status(*s, entity, std::nullopt).value()["state"]; }

    json artifact(int n) { return {{"name", "agresso"}, {"version", std::to_string(n)}, {"digest", digest_hex(n)}}; }
    std::int64_t deploy(const std::string& change, const std::string& env, int art, const std::string& actor = "ola") {
        return post("change.deployed", change, actor, {{"environment", env}, {"artifact", artifact(art)}});
    }
    std::int64_t approve(const std::string& change, const std::string& gate, const std::string& actor = "kari") {
        return post("change.approved", change, actor, {{"gate", gate}});
    }
    std::int64_t sign_off(const std::string& change, const std::string& result, int art,
                          const std::string& actor = "kari") {
        return post("test.signed_off", change, actor,
                    {{"environment", "test"}, {"result", result}, {"artifact_digest", digest_hex(art)}});
    }
    std::int64_t request(const std::string& change, bool emergency = false) {
        json d{{"title", "Upgrade"}, {"category", "application_upgrade"}, {"description", "d"}};
        if (emergency) d["emergency"] = true;
        return post("change.requested", change, "ola", d);
    }
};

}  // namespace

TEST_CASE("the change routine followed raises no finding and walks the state table") {
    ledger_fixture l;
    const std::string c = "change/CHG-1";
    std::vector<std::pair<std::int64_t, std::string>> steps;
    steps.emplace_back(l.request(c), "requested");
    steps.emplace_back(l.approve(c, "start"), "approved");
    steps.emplace_back(l.deploy(c, "test", 1), "in_test");
    steps.emplace_back(l.sign_off(c, "failed", 1), "test_failed");
    steps.emplace_back(l.deploy(c, "test", 2), "in_test");
    steps.emplace_back(l.sign_off(c, "passed", 2), "test_passed");
    steps.emplace_back(l.approve(c, "production"), "release_approved");
    steps.emplace_back(l.deploy(c, "production", 2), "in_production");
    steps.emplace_back(l.post("change.verified", c, "kari", {{"environment", "production"}, {"result", "passed"}}),
                       "verified");
    steps.emplace_back(l.post("change.documented", c, "ola", {{"reference", "DOC-1"}}), "verified");
    steps.emplace_back(l.post("change.closed", c, "kari", {{"outcome", "completed"}}), "closed");
    for (const auto& [offset, state] : steps) {
        INFO("offset " << offset);
        CHECK(l.findings_at(offset) == 0);
    }
    CHECK(l.state(c) == "closed");
    // as_of: the state from the events that had occurred by then, in ledger order.
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto t = events::parse_rfc3339(fmt::format("2026-03-02T{:02}:{:02}:30+01:00", 8 + (steps[i].first) / 60,
                                                          steps[i].first % 60))
                           .at.time_since_epoch()
                           .count();
        const auto st = entity_status(*l.s, c, t).value();
        INFO("as of the event at offset " << steps[i].first);
        CHECK(st["state"] == steps[i].second);
        CHECK(st["seq"] == i + 1);
        CHECK(st["last_offset"] == steps[i].first);
    }
    CHECK_FALSE(entity_status(*l.s, c, 0).has_value());
    const auto fields = entity_status(*l.s, c, std::nullopt).value()["fields"];
    CHECK(fields["production_artifact_digest"] == digest_hex(2));
    CHECK(fields["passed_artifact_digest"] == digest_hex(2));
}

TEST_CASE("rolled back and rejected changes") {
    ledger_fixture l;
    l.request("change/CHG-2");
    l.post("change.rejected", "change/CHG-2", "kari", {{"gate", "start"}, {"reason", "no"}});
    CHECK(l.state("change/CHG-2") == "rejected");
    l.request("change/CHG-3");
    l.post("change.rolled_back", "change/CHG-3", "ola", {{"environment", "test"}, {"reason", "broken"}});
    CHECK(l.state("change/CHG-3") == "rolled_back");
}

TEST_CASE("production_without_approval and production_without_test_signoff") {
    ledger_fixture l;
    l.request("change/A");
    l.approve("change/A", "start");
    l.deploy("change/A", "test", 1);
    const auto bad = l.deploy("change/A", "production", 1, "per");
    CHECK(l.raised(bad, "production_without_approval"));
    CHECK(l.raised(bad, "production_without_test_signoff"));
    CHECK_FALSE(l.raised(bad, "emergency_change"));

    l.request("change/B");
    l.approve("change/B", "start");
    l.deploy("change/B", "test", 1);
    l.sign_off("change/B", "passed", 1);
    l.approve("change/B", "production");
    const auto good = l.deploy("change/B", "production", 1, "per");
    CHECK_FALSE(l.raised(good, "production_without_approval"));
    CHECK_FALSE(l.raised(good, "production_without_test_signoff"));
    CHECK(l.findings_at(good) == 0);

    // A failed sign-off is no sign-off; an approval on another change does not count.
    l.request("change/C");
    l.approve("change/C", "start");
    l.deploy("change/C", "test", 1);
    l.sign_off("change/C", "failed", 1);
    const auto failed = l.deploy("change/C", "production", 1, "per");
    CHECK(l.raised(failed, "production_without_test_signoff"));
    CHECK(l.raised(failed, "production_without_approval"));
}

TEST_CASE("an emergency change gets the info finding emergency_change instead") {
    ledger_fixture l;
    l.request("change/E", true);
    l.approve("change/E", "production");
    const auto d = l.deploy("change/E", "production", 1, "per");
    CHECK(l.raised(d, "emergency_change"));
    CHECK_FALSE(l.raised(d, "production_without_test_signoff"));
    const auto f = findings(*l.s, {"", "emergency_change", {}, {}, {}})["findings"];
    REQUIRE(f.size() == 1);
    CHECK(f[0]["severity"] == "info");
}

TEST_CASE("untested_artifact compares with the last passed sign-off") {
    ledger_fixture l;
    l.request("change/U");
    l.approve("change/U", "start");
    l.deploy("change/U", "test", 1);
    l.sign_off("change/U", "passed", 1);
    l.approve("change/U", "production");
    const auto other = l.deploy("change/U", "production", 9, "per");
    CHECK(l.raised(other, "untested_artifact"));
    const auto same = l.deploy("change/U", "production", 1, "per");
    CHECK_FALSE(l.raised(same, "untested_artifact"));
    // A later passed sign-off of another digest is the one that counts.
    l.sign_off("change/U", "passed", 9);
    const auto now9 = l.deploy("change/U", "production", 9, "per");
    CHECK_FALSE(l.raised(now9, "untested_artifact"));
}

TEST_CASE("start_without_approval") {
    ledger_fixture l;
    l.request("change/S");
    const auto bad = l.deploy("change/S", "test", 1);
    CHECK(l.raised(bad, "start_without_approval"));
    l.request("change/T");
    l.approve("change/T", "start");
    const auto good = l.deploy("change/T", "test", 1);
    CHECK_FALSE(l.raised(good, "start_without_approval"));
    // A production approval is not a start approval.
    l.request("change/V");
    l.approve("change/V", "production");
    CHECK(l.raised(l.deploy("change/V", "test", 1), "start_without_approval"));
}

TEST_CASE("self_approval: who deployed does not sign off or approve for production") {
    ledger_fixture l;
    l.post("role.granted", "actor/kari", "admin", {{"role", "app_operator"}, {"system", "AGRESSO"}});
    l.request("change/F");
    l.approve("change/F", "start");
    l.deploy("change/F", "test", 1, "kari");
    const auto so = l.sign_off("change/F", "passed", 1, "kari");
    CHECK(l.raised(so, "self_approval"));
    const auto ap = l.approve("change/F", "production", "kari");
    CHECK(l.raised(ap, "self_approval"));

    l.request("change/G");
    l.approve("change/G", "start");
    l.deploy("change/G", "test", 1, "ola");
    CHECK_FALSE(l.raised(l.sign_off("change/G", "passed", 1, "kari"), "self_approval"));
    CHECK_FALSE(l.raised(l.approve("change/G", "production", "kari"), "self_approval"));
    // A start approval is not covered by four eyes in 3.2.
    l.deploy("change/G", "test", 2, "kari");
    CHECK_FALSE(l.raised(l.approve("change/G", "start", "kari"), "self_approval"));
}

TEST_CASE("unauthorized_actor: the role the event needs, for that system, at occurred_at") {
    ledger_fixture l;
    l.request("change/R");
    // hans is helpdesk, not system_manager.
    CHECK(l.raised(l.approve("change/R", "start", "hans"), "unauthorized_actor"));
    CHECK_FALSE(l.raised(l.approve("change/R", "start", "kari"), "unauthorized_actor"));
    // kari is system_manager for AGRESSO only.
    CHECK(l.raised(l.post("change.approved", "change/R2", "kari", {{"gate", "start"}}, std::chrono::minutes(1), "ARKIV"),
                   "unauthorized_actor"));
    // Deployments: app_operator or infra_operator; per holds infra_operator for every system.
    CHECK_FALSE(l.raised(l.deploy("change/R", "test", 1, "per"), "unauthorized_actor"));
    CHECK(l.raised(l.deploy("change/R", "test", 1, "kari"), "unauthorized_actor"));
    // A revoked role no longer counts.
    l.post("role.revoked", "actor/ola", "admin", {{"role", "app_operator"}, {"system", "AGRESSO"}});
    CHECK(l.raised(l.deploy("change/R", "test", 1, "ola"), "unauthorized_actor"));
    // A role valid until a time that has passed.
    l.post("role.granted", "actor/hans", "admin",
           {{"role", "system_manager"}, {"system", "AGRESSO"}, {"valid_until", "2026-03-02T08:00:00+01:00"}});
    CHECK(l.raised(l.approve("change/R", "start", "hans"), "unauthorized_actor"));
    // Windows and route changes need helpdesk; agreements a signatory; access and calendar a system_manager.
    CHECK(l.raised(l.post("window.opened", "window/W-1", "kari", {{"reason", "r"}}), "unauthorized_actor"));
    CHECK_FALSE(l.raised(l.post("window.opened", "window/W-2", "hans", {{"reason", "r"}}), "unauthorized_actor"));
    l.post("agreement.requested", "agreement/AG-1", "ola",
           {{"provider_system", "A"}, {"consumer_system", "B"}, {"service", "s"}});
    CHECK(l.raised(l.post("agreement.approved", "agreement/AG-1", "kari", {}), "unauthorized_actor"));
    CHECK_FALSE(l.raised(l.post("agreement.approved", "agreement/AG-1", "signe", {}), "unauthorized_actor"));
    CHECK(l.raised(l.post("calendar.holiday_added", "calendar/oslo", "hans", {{"date", "2026-12-24"}}),
                   "unauthorized_actor"));
    CHECK_FALSE(l.raised(l.post("calendar.holiday_added", "calendar/oslo", "kari", {{"date", "2026-12-24"}}),
                         "unauthorized_actor"));
    CHECK(l.raised(l.post("access.granted", "access/AC-1", "ola",
                          {{"subject", "x"}, {"level", "read"}, {"justification", "j"}}),
                   "unauthorized_actor"));
}

TEST_CASE("unknown_actor") {
    ledger_fixture l;
    const auto bad = l.request("change/X");  // by ola: registered
    CHECK_FALSE(l.raised(bad, "unknown_actor"));
    const auto ghost = l.post("change.requested", "change/Y", "ghost",
                              {{"title", "t"}, {"category", "other"}, {"description", "d"}});
    CHECK(l.raised(ghost, "unknown_actor"));
    CHECK_FALSE(l.raised(ghost, "unauthorized_actor"));
    // Registered later: from then on known.
    l.post("actor.registered", "actor/ghost", "admin", {{"name", "G"}, {"organization", "O"}, {"kind", "person"}});
    CHECK_FALSE(l.raised(l.post("change.documented", "change/Y", "ghost", {{"reference", "r"}}), "unknown_actor"));
}

TEST_CASE("route_change_outside_window and route_without_agreement") {
    ledger_fixture l;
    l.post("agreement.requested", "agreement/AG-1", "ola",
           {{"provider_system", "A"}, {"consumer_system", "B"}, {"service", "s"}});
    l.post("agreement.approved", "agreement/AG-1", "signe", {});
    auto order = [&](const std::string& route, const std::string& transport, const std::optional<std::string>& ag) {
        json d{{"action", "establish"}, {"transport", transport}, {"addressing", "explicit"},
               {"sender_system", "A"}, {"receiver_system", "B"}, {"order_id", "O-1"}};
        if (ag) d["agreement"] = *ag;
        l.post("route.ordered", route, "ola", d);
    };
    order("route/R-1", "webservice", "AG-1");
    l.post("window.opened", "window/W-1", "hans", {{"reason", "service window"}});
    const auto in = l.post("route.activated", "route/R-1", "hans", {{"window", "W-1"}});
    CHECK(l.findings_at(in) == 0);
    CHECK(l.state("route/R-1") == "active");
    l.post("window.closed", "window/W-1", "hans", {});
    const auto out = l.post("route.decommissioned", "route/R-1", "hans", {{"window", "window/W-1"}});
    CHECK(l.raised(out, "route_change_outside_window"));
    CHECK(l.raised(l.post("route.rolled_back", "route/R-1", "hans", {{"window", "W-9"}, {"reason", "r"}}),
                   "route_change_outside_window"));
    CHECK(l.state("route/R-1") == "rolled_back");

    l.post("window.opened", "window/W-2", "hans", {{"reason", "r"}});
    order("route/R-2", "webservice", "AG-2");  // never approved
    CHECK(l.raised(l.post("route.activated", "route/R-2", "hans", {{"window", "W-2"}}), "route_without_agreement"));
    order("route/R-3", "sftp", std::nullopt);
    CHECK_FALSE(l.raised(l.post("route.activated", "route/R-3", "hans", {{"window", "W-2"}}), "route_without_agreement"));
    l.post("agreement.terminated", "agreement/AG-1", "signe", {{"reason", "ended"}});
    order("route/R-4", "webservice", "AG-1");
    CHECK(l.raised(l.post("route.activated", "route/R-4", "hans", {{"window", "W-2"}}), "route_without_agreement"));
    CHECK(l.state("agreement/AG-1") == "terminated");
}

TEST_CASE("event_after_close on changes and incidents") {
    ledger_fixture l;
    l.request("change/Z");
    const auto before = l.post("change.documented", "change/Z", "ola", {{"reference", "r"}});
    CHECK_FALSE(l.raised(before, "event_after_close"));
    l.post("change.closed", "change/Z", "kari", {{"outcome", "cancelled"}});
    CHECK(l.raised(l.deploy("change/Z", "test", 1, "per"), "event_after_close"));

    l.post("incident.reported", "incident/INC-1", "hans", {{"category", "B"}, {"service", "S"}, {"summary", "down"}});
    l.post("incident.resolved", "incident/INC-1", "hans", {{"resolution", "fixed"}});
    CHECK(l.state("incident/INC-1") == "resolved");
    l.post("incident.closed", "incident/INC-1", "hans", {});
    CHECK(l.raised(l.post("incident.workaround", "incident/INC-1", "hans", {{"description", "d"}}), "event_after_close"));
    CHECK(l.state("incident/INC-1") == "closed");
}

TEST_CASE("invalid_signature against the signing key's public_key and life") {
    ledger_fixture l;
    const auto kp = events::ed25519_generate();
    const auto other = events::ed25519_generate();
    l.post("key.issued", "key/SIGN-1", "per",
           {{"purpose", "signing"}, {"owner", "tool"}, {"fingerprint", digest_hex(3)},
            {"not_after", "2027-01-01T00:00:00Z"}, {"public_key", events::base64_encode(kp.public_key)}});
    auto signed_event = [&](const std::string& secret, const std::string& key) {
        json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", ++l.ids)},
                {"type", "change.documented"},
                {"entity", "change/SIG"},
                {"system", "AGRESSO"},
                {"actor", "ola"},
                {"occurred_at", l.occurred_at()},
                {"data", {{"reference", "r"}}}};
        const auto sig = events::ed25519_sign(secret, events::canonicalize(ev));
        ev["signature"] = {{"key", key}, {"sig", events::base64_encode(sig)}};
        return l.post_json(ev);
    };
    CHECK(l.raised(signed_event(kp.secret_key, "key/SIGN-1"), "invalid_signature"));  // not yet active
    l.post("key.activated", "key/SIGN-1", "per", {});
    const auto good = signed_event(kp.secret_key, "key/SIGN-1");
    CHECK_FALSE(l.raised(good, "invalid_signature"));
    CHECK(l.raised(signed_event(other.secret_key, "key/SIGN-1"), "invalid_signature"));
    CHECK(l.raised(signed_event(kp.secret_key, "key/NONE"), "invalid_signature"));
    l.post("key.revoked", "key/SIGN-1", "per", {{"reason", "retired"}});
    CHECK(l.raised(signed_event(kp.secret_key, "key/SIGN-1"), "invalid_signature"));
}

TEST_CASE("late_recording: recorded_at more than 24 h after occurred_at") {
    ledger_fixture l;
    CHECK(l.raised(l.post("change.requested", "change/L", "ola",
                          {{"title", "t"}, {"category", "other"}, {"description", "d"}}, std::chrono::hours(25)),
                   "late_recording"));
    CHECK_FALSE(l.raised(l.post("change.documented", "change/L", "ola", {{"reference", "r"}}, std::chrono::hours(23)),
                         "late_recording"));
    CHECK_FALSE(l.raised(l.post("change.documented", "change/L", "ola", {{"reference", "r"}}, std::chrono::hours(24)),
                         "late_recording"));
}

TEST_CASE("key_compromised and the key states") {
    ledger_fixture l;
    auto issue = [&](const std::string& key) {
        l.post("key.issued", key, "per",
               {{"purpose", "seal"}, {"owner", "bank"}, {"fingerprint", digest_hex(5)}, {"not_after", "2027-01-01T00:00:00Z"}});
    };
    issue("key/K-1");
    CHECK(l.state("key/K-1") == "issued");
    l.post("key.activated", "key/K-1", "per", {});
    CHECK(l.state("key/K-1") == "active");
    CHECK_FALSE(l.raised(l.post("key.rotated", "key/K-1", "per", {{"successor", "K-2"}, {"reason", "seal_error"}}),
                         "key_compromised"));
    CHECK(l.state("key/K-1") == "rotated");
    issue("key/K-3");
    CHECK(l.raised(l.post("key.rotated", "key/K-3", "per", {{"successor", "K-4"}, {"reason", "compromised"}}),
                   "key_compromised"));
    issue("key/K-5");
    CHECK(l.raised(l.post("key.revoked", "key/K-5", "per", {{"reason", "compromised"}}), "key_compromised"));
    CHECK(l.state("key/K-5") == "revoked");
    issue("key/K-6");
    CHECK_FALSE(l.raised(l.post("key.revoked", "key/K-6", "per", {{"reason", "expired"}}), "key_compromised"));
    // key.revoked's reason is free text: "compromised" as a whole word, in any case.
    CHECK(l.raised(l.post("key.revoked", "key/K-7", "per", {{"reason", "Key Compromised."}}), "key_compromised"));
    CHECK(l.raised(l.post("key.revoked", "key/K-8", "per", {{"reason", "laptop stolen; compromised"}}), "key_compromised"));
    CHECK_FALSE(l.raised(l.post("key.revoked", "key/K-9", "per", {{"reason", "uncompromised, rotated early"}}),
                         "key_compromised"));
    CHECK_FALSE(l.raised(l.post("key.revoked", "key/K-10", "per", {{"reason", "compromise suspected"}}), "key_compromised"));
    const auto st = entity_status(*l.s, "key/K-1", std::nullopt).value();
    CHECK(st["fields"]["successor"] == "K-2");
    CHECK(st["fields"]["not_after"] == "2027-01-01T00:00:00Z");
}

TEST_CASE("the other state tables") {
    ledger_fixture l;
    struct step {
        std::string type, entity;
        json data;
        std::string state;
    };
    const std::vector<step> steps{
        {"incident.reported", "incident/I", {{"category", "A"}, {"service", "s"}, {"summary", "x"}}, "reported"},
        {"incident.recategorized", "incident/I", {{"category", "B"}}, "reported"},
        {"incident.workaround", "incident/I", {{"description", "d"}}, "reported"},
        {"incident.resolved", "incident/I", {{"resolution", "r"}}, "resolved"},
        {"incident.feedback_sent", "incident/I", {}, "resolved"},
        {"incident.closed", "incident/I", {}, "closed"},
        {"maintenance.announced", "maintenance/M",
         {{"service", "S"}, {"starts_at", "2026-04-01T10:00:00+02:00"}, {"ends_at", "2026-04-01T12:00:00+02:00"},
          {"impact", "none"}},
         "announced"},
        {"maintenance.completed", "maintenance/M", {}, "completed"},
        {"service.registered", "service/S", {{"environment", "production"}, {"target", 99.9}}, "up"},
        {"outage.started", "service/S", {}, "down"},
        {"outage.ended", "service/S", {}, "up"},
        {"report.submitted", "report/R", {{"kind", "operations"}, {"period", "2026-02"}}, "submitted"},
        {"report.approved", "report/R", {}, "approved"},
        {"report.submitted", "report/R2", {{"kind", "status"}, {"period", "2026-02"}}, "submitted"},
        {"report.rejected", "report/R2", {{"comment", "no"}}, "rejected"},
        {"request.submitted", "request/Q", {{"title", "t"}}, "submitted"},
        {"request.acknowledged", "request/Q", {}, "acknowledged"},
        {"request.qualified", "request/Q", {{"priority", "high"}}, "qualified"},
        {"request.analysed", "request/Q", {}, "analysed"},
        {"access.granted", "access/A", {{"subject", "s"}, {"level", "admin"}, {"justification", "j"}}, "granted"},
        {"access.reviewed", "access/A", {{"outcome", "kept"}}, "granted"},
        {"access.revoked", "access/A", {{"reason", "done"}}, "revoked"},
        {"window.opened", "window/W", {{"reason", "r"}}, "open"},
        {"window.closed", "window/W", {}, "closed"},
        {"agreement.requested", "agreement/G", {{"provider_system", "A"}, {"consumer_system", "B"}, {"service", "s"}},
         "requested"},
        {"agreement.approved", "agreement/G", {}, "approved"},
        {"calendar.holiday_added", "calendar/oslo", {{"date", "2026-12-31"}}, "maintained"},
        {"route.ordered", "route/R",
         {{"action", "establish"}, {"transport", "sftp"}, {"addressing", "implicit"}, {"sender_system", "A"},
          {"receiver_system", "B"}, {"order_id", "O"}},
         "ordered"},
    };
    for (const auto& s : steps) {
        l.post(s.type, s.entity, "kari", s.data);
        INFO(s.type);
        CHECK(l.state(s.entity) == s.state);
    }
    CHECK(l.state("actor/ola") == "registered");
}

TEST_CASE("an uptime report unanswered for 5 days is approved_by_default") {
    ledger_fixture l;
    l.post("report.submitted", "report/UP", "ola", {{"kind", "uptime"}, {"period", "2026-02"}});
    const auto at = [](const char* t) { return events::parse_rfc3339(t).at.time_since_epoch().count(); };
    CHECK(entity_status(*l.s, "report/UP", at("2026-03-06T12:00:00+01:00")).value()["state"] == "submitted");
    CHECK(entity_status(*l.s, "report/UP", at("2026-03-07T09:00:00+01:00")).value()["state"] == "approved_by_default");
}

TEST_CASE("duplicates apply once, anything that is not an event is quarantined, a gap halts") {
    ledger_fixture l(false);
    json ev{{"id", "00000000-0000-4000-8000-000000000001"}, {"type", "window.opened"}, {"entity", "window/W"},
            {"system", "S"}, {"actor", "a"}, {"occurred_at", "2026-03-02T10:00:00+01:00"}, {"data", {{"reason", "r"}}}};
    l.post_json(ev);
    l.post_json(ev);  // the same id again (two gateways, say): in the chain, applied once
    const auto garbage = l.raw("this is not an event");
    CHECK(entity_status(*l.s, "window/W", std::nullopt).value()["seq"] == 1);
    CHECK(entity_trail(*l.s, "window/W")["events"].size() == 1);
    CHECK(l.raised(garbage, "undecodable_record"));
    CHECK(l.s->current_head().next_offset == 3);
    CHECK(l.s->current_head().records == 3);

    // Offsets already applied are skipped (a re-read after a crash); a gap stops the batch.
    auto r = l.p->apply({raw_record{2, "again"}, raw_record{3, "x"}, raw_record{5, "y"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == make_error_code(errc::offset_gap));
    CHECK(l.s->current_head().next_offset == 4);  // offset 3 committed, nothing after the gap
}

TEST_CASE("the chain of section 4, and equal rebuilds give equal digests") {
    ledger_fixture a;
    ledger_fixture b;
    CHECK(digest(*a.s) == digest(*b.s));
    a.request("change/D");
    CHECK(digest(*a.s) != digest(*b.s));
    b.request("change/D");
    CHECK(digest(*a.s) == digest(*b.s));
    // Chain hash recomputed from the trail's JSON alone.
    const auto trail = entity_trail(*a.s, "change/D")["events"];
    REQUIRE(trail.size() == 1);
    const auto offset = trail[0]["offset"].get<std::int64_t>();
    auto prev = events::genesis();
    for (std::int64_t o = 0; o <= offset; ++o) {
        const auto e = event_at(*a.s, o).value();
        json recorded = e;
        for (const char* k : {"topic", "partition", "offset", "seq", "content_hash", "chain_hash"}) recorded.erase(k);
        const auto content = events::sha256(events::canonicalize(recorded));
        CHECK(events::to_hex(content) == e["content_hash"]);
        prev = events::chain_hash(prev, content, o);
        CHECK(events::to_hex(prev) == e["chain_hash"]);
    }
}

TEST_CASE("trails by entity, actor and system span blocks of offsets whatever the batches") {
    // 700 events over offsets 0..699: blocks 0, 1 and 2 of the actor and system trails (256
    // offsets each); two changes with about 230 events each fill blocks 0..3 of their entity
    // trails (64 by seq), the others have one event each.
    const char* actors[] = {"ola", "kari", "hans"};
    const char* systems[] = {"AGRESSO", "ELMA"};
    std::vector<std::string> records;
    std::map<std::string, std::vector<std::int64_t>> by_actor, by_system, by_entity;
    for (int i = 0; i < 700; ++i) {
        const std::string actor = actors[(i * 7 / 3) % 3];
        const std::string system = systems[(i / 5) % 2];
        const std::string entity = i % 3 == 0 ? fmt::format("change/T{}", i) : fmt::format("change/BIG{}", i % 2);
        records.push_back(change_requested_record(i + 1, entity, actor, system));
        by_actor[actor].push_back(i);
        by_system[system].push_back(i);
        by_entity[entity].push_back(i);
    }
    REQUIRE(by_entity["change/BIG0"].size() > 3 * 64);
    ledger_fixture one(false);  // a record per batch
    for (const auto& r : records) one.raw(r);
    ledger_fixture many(false);  // batches of 1, 37, 300, 255 and the rest
    std::size_t at = 0;
    for (const std::size_t n : {std::size_t{1}, std::size_t{37}, std::size_t{300}, std::size_t{255}, records.size()}) {
        std::vector<raw_record> batch;
        for (; batch.size() < n && at < records.size(); ++at) {
            batch.push_back(raw_record{static_cast<std::int64_t>(at), records[at]});
        }
        REQUIRE(many.p->apply(batch));
    }
    CHECK(digest(*one.s) == digest(*many.s));
    auto offsets = [](const json& trail) {
        std::vector<std::int64_t> out;
        for (const auto& e : trail["events"]) out.push_back(e["offset"].get<std::int64_t>());
        return out;
    };
    for (auto* f : {&one, &many}) {
        for (const auto& [actor, expected] : by_actor) {
            CAPTURE(actor);
            CHECK(offsets(actor_trail(*f->s, actor)) == expected);
        }
        for (const auto& [system, expected] : by_system) {
            CAPTURE(system);
            CHECK(offsets(system_trail(*f->s, system)) == expected);
        }
        for (const auto& [entity, expected] : by_entity) {
            CAPTURE(entity);
            const auto trail = entity_trail(*f->s, entity)["events"];
            CHECK(offsets(json{{"events", trail}}) == expected);
            std::vector<std::uint64_t> seqs, want(expected.size());
            for (const auto& e : trail) seqs.push_back(e["seq"].get<std::uint64_t>());
            std::iota(want.begin(), want.end(), 1);
            CHECK(seqs == want);
            const auto status = entity_status(*f->s, entity, std::nullopt);
            REQUIRE(status);
            CHECK((*status)["seq"] == expected.size());
            CHECK((*status)["last_offset"] == expected.back());
        }
        // as_of folds the trail afresh: every one of BIG0's events had occurred by then
        const auto as_of = entity_status(*f->s, "change/BIG0", micros_of("2026-03-02T08:00:00+01:00"));
        REQUIRE(as_of);
        CHECK((*as_of)["seq"] == by_entity["change/BIG0"].size());
        CHECK(actor_trail(*f->s, "ol")["events"].empty());  // a prefix of a name is not the name
        CHECK(actor_trail(*f->s, "nobody")["events"].empty());
        CHECK(entity_trail(*f->s, "change/BIG")["events"].empty());
        CHECK_FALSE(entity_status(*f->s, "change/BIG", std::nullopt));
    }
}

TEST_CASE("chain hashes computed ahead by the reading side are used only when they continue the head") {
    std::vector<std::string> records;
    for (int i = 0; i < 50; ++i) {
        records.push_back(i == 20 ? std::string("not an event")
                          : i == 33 ? records[5]  // a duplicate: its row is encoded by the writer
                                    : change_requested_record(i + 1, fmt::format("change/C{}", i % 7), "ola"));
    }
    auto apply_in_batches = [&](ledger_fixture& f, std::optional<head> start) {
        std::optional<head> through = start;
        for (std::size_t at = 0; at < records.size(); at += 10) {
            std::vector<prepared_record> batch;
            for (std::size_t i = at; i < at + 10; ++i) {
                batch.push_back(prepare(raw_record{static_cast<std::int64_t>(i), records[i]}));
            }
            if (through) chain_ahead(batch, *through);
            REQUIRE(f.p->apply(batch));
        }
        return through;
    };
    ledger_fixture plain(false), ahead(false), wrong(false);
    apply_in_batches(plain, std::nullopt);
    const auto through = apply_in_batches(ahead, ahead.s->current_head());
    REQUIRE(through);
    CHECK(through->next_offset == 50);
    CHECK(through->chain == plain.s->current_head().chain);
    CHECK(digest(*ahead.s) == digest(*plain.s));
    // A reading side whose chain is not the writer's head: the writer hashes each record itself.
    apply_in_batches(wrong, head{0, events::sha256("not the genesis"), 0});
    CHECK(wrong.s->current_head().chain == plain.s->current_head().chain);
    CHECK(digest(*wrong.s) == digest(*plain.s));
}

TEST_CASE("a batch that fills the map is applied again, whole, once the map has grown") {
    // 20 changes, each with events in every batch: a batch that fills the map has changed some
    // of them when it is aborted, and must be applied again from what was committed.
    std::vector<std::string> records;
    for (int i = 0; i < 600; ++i) {
        json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", i + 1)},
                {"type", i < 20 ? "change.requested" : "change.rejected"},
                {"entity", fmt::format("change/M{}", i % 20)},
                {"system", "AGRESSO"},
                {"actor", "ola"},
                {"occurred_at", "2026-03-02T08:00:00+01:00"},
                {"data", i < 20 ? json{{"title", "t"}, {"category", "patch"}, {"description", "d"}}
                                : json{{"gate", "start"}, {"reason", fmt::format("reason {} {}", i, std::string(300, 'x'))}}}};
        records.push_back(events::record_bytes(ev, "tool", "2026-03-02T07:01:00Z"));
    }
    ledger_fixture plain(false), tight(false);
    const auto before = tight.s->lmdb().map_size();
    for (std::size_t at = 0; at < records.size(); at += 100) {
        std::vector<raw_record> batch;
        for (std::size_t i = at; i < at + 100; ++i) batch.push_back(raw_record{static_cast<std::int64_t>(i), records[i]});
        REQUIRE(plain.p->apply(batch));
        // As small as the data (LMDB's floor), then room for 8 more pages: the batch fills the
        // map halfway, after it has changed some of the entities, and is applied again.
        tight.s->lmdb().set_map_size(1);
        tight.s->lmdb().set_map_size(tight.s->lmdb().map_size() + 8 * 4096);
        REQUIRE(tight.p->apply(batch));
    }
    CHECK(tight.s->lmdb().map_size() < before);  // it did shrink, and grew back only as needed
    CHECK(digest(*tight.s) == digest(*plain.s));
    const auto status = entity_status(*tight.s, "change/M7", std::nullopt);
    REQUIRE(status);
    CHECK((*status)["seq"] == 30);
    CHECK((*status)["fields"]["rejection_reason"].get<std::string>().starts_with("reason 587 "));
}

TEST_CASE("verify names the offset where an edited trail block differs") {
    // 150 events: change/E0 gets the even offsets (seq n at offset 2(n-1)), change/E1 the odd
    // ones; actor ola every third offset; everything on AGRESSO.
    const char* actors[] = {"ola", "kari", "hans"};
    ledger_fixture l(false);
    std::vector<std::string> records;
    for (int i = 0; i < 150; ++i) {
        records.push_back(change_requested_record(i + 1, fmt::format("change/E{}", i % 2), actors[i % 3]));
        l.raw(records.back());
    }
    // Someone with write access to the data directory changes a block of the live read models.
    auto edit = [&](dbi db, const std::string& key, const std::function<void(std::string&)>& change) {
        write_txn txn(l.s->lmdb());
        const auto stored = txn.get(db, key);
        REQUIRE(stored);
        std::string value(*stored);
        change(value);
        txn.put(db, key, value);
        txn.commit();
    };
    auto first_problem = [&]() {
        temp_dir scratch;
        verifier v(*l.s, scratch.path);
        for (std::size_t i = 0; i < records.size(); ++i) v.feed(static_cast<std::int64_t>(i), records[i]);
        const auto report = v.finish();
        REQUIRE(report.problems.size() == 1);
        return report.problems.front();
    };
    SECTION("an entity trail block with one offset replaced") {
        // block 1 of change/E0 holds seq 64..127; its third offset is seq 66's, 130
        edit(l.s->entity_trail, entity_trail_key("change/E0", 64), [](std::string& v) {
            REQUIRE(read_be64(v.substr(16, 8)) == 130);
            v.replace(16, 8, be64(131));
        });
        const auto p = first_problem();
        CAPTURE(p.problem);
        CHECK(p.offset == 130);
    }
    SECTION("an entity trail block cut short") {
        edit(l.s->entity_trail, entity_trail_key("change/E1", 1), [](std::string& v) { v.resize(v.size() - 8); });
        CHECK(first_problem().offset == 2 * 62 + 1);  // E1's seq 63, the last of block 0
    }
    SECTION("an actor trail block with an offset left out") {
        edit(l.s->actor_trail, trail_block_key("ola", 0), [](std::string& v) {
            REQUIRE(static_cast<unsigned char>(v[3]) == 9);
            v.erase(3, 1);
        });
        CHECK(first_problem().offset == 9);
    }
    SECTION("a system trail block with an offset added") {
        edit(l.s->system_trail, trail_block_key("AGRESSO", 0), [](std::string& v) { v.push_back(static_cast<char>(200)); });
        CHECK(first_problem().offset == 200);
    }
}

TEST_CASE("a second projector on the same directory is refused") {
    ledger_fixture l(false);
    auto second = store::open(l.dir.path, "ledger.test", true);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == make_error_code(errc::data_dir_locked));
    // No lock file beside the data to remove: the lock is on data.mdb itself.
    for (const auto& f : std::filesystem::directory_iterator(l.dir.path)) {
        if (f.path().filename() != "data.mdb" && f.path().filename() != "lock.mdb") std::filesystem::remove(f.path());
    }
    CHECK_FALSE(store::open(l.dir.path, "ledger.test", true));
    CHECK(store::open(l.dir.path, "ledger.test", false));  // readers are welcome
}

TEST_CASE("the ledger key is readable by its owner only") {
    ledger_fixture l(false);
    CHECK((std::filesystem::status(l.dir.path / "ledger.key").permissions() & std::filesystem::perms::group_all) ==
          std::filesystem::perms::none);
}

TEST_CASE("Read models of an older format are rebuilt; the ledger key stays") {
    temp_dir dir;
    std::string key_before;
    {
        auto s = store::open(dir.path, "ledger.test", true).value();
        projector p(*s);
        REQUIRE(p.apply(std::vector<raw_record>{raw_record{0, "not an event"}}).has_value());
        write_txn txn(s->lmdb());
        txn.put(s->meta, "format", be64(1));
        txn.commit();
        key_before = s->public_key();
    }
    auto reopened = store::open(dir.path, "ledger.test", true);
    REQUIRE(reopened.has_value());
    CHECK(reopened.value()->current_head().next_offset == 0);  // to be projected again from the log
    CHECK(reopened.value()->public_key() == key_before);
    CHECK(std::filesystem::exists(dir.path / "data.mdb.format1"));
    // A reader is told, and changes nothing.
    reopened.value().reset();
    {
        auto s = store::open(dir.path, "ledger.test", true).value();
        write_txn txn(s->lmdb());
        txn.put(s->meta, "format", be64(1));
        txn.commit();
    }
    auto reader = store::open(dir.path, "ledger.test", false);
    REQUIRE_FALSE(reader.has_value());
    CHECK(reader.error().message.find("format 1") != std::string::npos);
}

TEST_CASE("A quiet ledger's last events get a checkpoint one interval after the last checkpoint") {
    temp_dir dir;
    projector_options o;
    o.checkpoint_interval = std::chrono::milliseconds(500);  // long beside a few LMDB transactions
    const auto wait = std::chrono::milliseconds(600);
    auto s = store::open(dir.path, "ledger.test", true).value();
    auto signed_offsets = [&] {
        std::vector<std::int64_t> out;
        store::reader r(*s);
        cursor c(r.get(), s->checkpoints);
        for (bool ok = c.first(); ok; ok = c.next()) out.push_back(decode<checkpoint_row>(c.value()).offset);
        return out;
    };
    auto p = std::make_unique<projector>(*s, o);
    // checkpoint_if_due(), which must not fail: the checkpoint it signed, or nullopt.
    auto signed_now = [&] {
        auto due = p->checkpoint_if_due();
        REQUIRE(due);
        return due.value();
    };
    REQUIRE(p->apply({raw_record{0, "a"}, raw_record{1, "b"}, raw_record{2, "c"}}));
    CHECK_FALSE(signed_now());  // the interval has not passed since the projector started
    std::this_thread::sleep_for(wait);
    const auto due = signed_now();
    REQUIRE(due);
    const auto cp = *due;
    CHECK(cp.offset == 2);
    CHECK(cp.chain_hash == events::as_bytes(s->current_head().chain));
    CHECK(events::ed25519_verify(cp.public_key,
                                 projector::checkpoint_message("ledger.test", 2, events::to_hex(s->current_head().chain)),
                                 cp.signature));
    CHECK(signed_offsets() == std::vector<std::int64_t>{2});
    std::this_thread::sleep_for(wait);
    CHECK_FALSE(signed_now());  // nothing applied since: nothing to sign
    CHECK(signed_offsets() == std::vector<std::int64_t>{2});

    // A batch an interval after the last checkpoint signs one itself; the next one, right after,
    // does not, and the quiet spell after it does.
    auto applied = p->apply({raw_record{3, "d"}});
    REQUIRE(applied);
    CHECK(applied.value().checkpoints.size() == 1);
    applied = p->apply({raw_record{4, "e"}});
    REQUIRE(applied);
    CHECK(applied.value().checkpoints.empty());
    CHECK_FALSE(signed_now());
    std::this_thread::sleep_for(wait);
    const auto quiet = signed_now();
    REQUIRE(quiet);
    CHECK(quiet->offset == 4);
    CHECK(signed_offsets() == std::vector<std::int64_t>{2, 3, 4});

    // After a restart the projector knows which records the last checkpoint covers.
    REQUIRE(p->apply({raw_record{5, "f"}}));
    p.reset();
    s.reset();
    s = store::open(dir.path, "ledger.test", true).value();
    p = std::make_unique<projector>(*s, o);
    std::this_thread::sleep_for(wait);
    const auto restarted = signed_now();
    REQUIRE(restarted);
    CHECK(restarted->offset == 5);
    std::this_thread::sleep_for(wait);
    CHECK_FALSE(signed_now());
    CHECK(signed_offsets() == std::vector<std::int64_t>{2, 3, 4, 5});
}
