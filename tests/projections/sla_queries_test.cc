// The SLA queries through the real projector on a temporary LMDB directory: GET /v1/breaches and
// GET /v1/obligations?state=breached answer from different databases (the deadline index, every
// obligation) and must agree at every as_of, whatever an incident's recategorisations did to its
// deadline.

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/event.h"
#include "events/time.h"
#include "projections/projector.h"
#include "projections/sla_queries.h"
#include "projections/store.h"
#include "tests/support/temp_dir.h"

using namespace ledger;
using namespace ledger::projections;
using ledger::testing::temp_dir;
using nlohmann::json;

namespace {

constexpr std::int64_t us_per_min = 60'000'000;

struct sla_ledger {
    temp_dir dir;
    std::unique_ptr<store> s = store::open(dir.path, "ledger.test", true).value();
    std::unique_ptr<projector> p = std::make_unique<projector>(*s);
    std::int64_t next = 0;

    void post(const std::string& type, const std::string& entity, std::int64_t occurred_us, json data) {
        const auto at = events::timestamp{std::chrono::microseconds(occurred_us)};
        json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", next + 1)},
                {"type", type},
                {"entity", entity},
                {"system", "AGRESSO"},
                {"actor", "kari"},
                {"occurred_at", events::format_utc(at)},
                {"data", std::move(data)}};
        const auto bytes = events::record_bytes(ev, "tool", events::format_utc(at));
        REQUIRE(p->apply({raw_record{next++, bytes}}));
    }
};

/// "entity late_seconds met_at" of each breach, sorted.
std::multiset<std::string> rows(const json& list) {
    std::multiset<std::string> out;
    for (const auto& b : list) {
        out.insert(fmt::format("{} {} {} {}", b["obligation"].get<std::string>(), b["entity"].get<std::string>(),
                               b["late_seconds"].get<std::int64_t>(), b["met_at"].dump()));
    }
    return out;
}

}  // namespace

TEST_CASE("breaches and obligations?state=breached agree at every as_of, across recategorisations") {
    std::mt19937_64 rng(20261204);
    sla_ledger l;
    const char* categories[] = {"A", "B", "C"};
    // Monday 2026-11-16 08:30 Oslo: within opening hours, so B's clock starts at the report.
    const std::int64_t base = events::parse_rfc3339("2026-11-16T08:30:00+01:00").at.time_since_epoch().count();
    std::vector<std::int64_t> probes;
    const int incidents = 60;
    for (int i = 0; i < incidents; ++i) {
        const auto entity = fmt::format("incident/INC-{}", i);
        std::int64_t t = base + static_cast<std::int64_t>(rng() % (24 * 60)) * us_per_min;
        const std::string first = categories[rng() % 3];
        l.post("incident.reported", entity, t, {{"category", first}, {"service", "S"}, {"summary", "s"}});
        probes.push_back(t);
        const int recategorisations = static_cast<int>(rng() % 3);
        for (int r = 0; r < recategorisations; ++r) {
            t += static_cast<std::int64_t>(1 + rng() % (10 * 60)) * us_per_min;
            l.post("incident.recategorized", entity, t, {{"category", categories[rng() % 3]}});
            probes.push_back(t);
        }
        if (rng() % 4 != 0) {
            t += static_cast<std::int64_t>(1 + rng() % (10 * 60)) * us_per_min;
            l.post("incident.resolved", entity, t, {{"resolution", "fixed"}});
            probes.push_back(t);
        }
    }
    // The dues too, and a minute either side of every event and due.
    obligation_filter later;
    later.as_of_us = base + 400LL * 24 * 60 * us_per_min;
    const auto all = obligations(*l.s, later);
    for (const auto& o : all["obligations"]) {
        probes.push_back(events::parse_rfc3339(o["due"].get<std::string>()).at.time_since_epoch().count());
    }
    const auto n = probes.size();
    for (std::size_t i = 0; i < n; ++i) {
        probes.push_back(probes[i] - us_per_min);
        probes.push_back(probes[i] + us_per_min);
    }
    for (int i = 0; i < 200; ++i) probes.push_back(base + static_cast<std::int64_t>(rng() % (6 * 24 * 60)) * us_per_min);

    std::size_t breached_somewhere = 0;
    std::size_t checked = 0;
    for (const auto t : probes) {
        obligation_filter f;
        f.as_of_us = t;
        f.obligation = "incident_resolution";
        const auto b = rows(breaches(*l.s, f)["breaches"]);
        f.state = obligation_state::breached;
        const auto o = rows(obligations(*l.s, f)["obligations"]);
        INFO("as_of " << events::format_utc(events::timestamp{std::chrono::microseconds(t)}));
        REQUIRE(b == o);
        breached_somewhere += b.size();
        ++checked;
    }
    CHECK(checked > 400);
    CHECK(breached_somewhere > 0);
}

TEST_CASE("an incident late under its first category, recategorised and resolved in time, is a breach between") {
    sla_ledger l;
    const auto at = [](const char* t) { return events::parse_rfc3339(t).at.time_since_epoch().count(); };
    // A: due 13:00. At 14:00 it becomes C (due within 3 working days), resolved at 15:00: in time.
    l.post("incident.reported", "incident/INC-1", at("2026-11-16T08:00:00+01:00"),
           {{"category", "A"}, {"service", "S"}, {"summary", "s"}});
    l.post("incident.recategorized", "incident/INC-1", at("2026-11-16T14:00:00+01:00"), {{"category", "C"}});
    l.post("incident.resolved", "incident/INC-1", at("2026-11-16T15:00:00+01:00"), {{"resolution", "fixed"}});
    obligation_filter f;
    f.as_of_us = at("2026-11-16T13:30:00+01:00");
    const auto b = breaches(*l.s, f)["breaches"];
    REQUIRE(b.size() == 1);
    CHECK(b[0]["entity"] == "incident/INC-1");
    CHECK(b[0]["late_seconds"] == 1800);
    f.as_of_us = at("2026-11-16T16:00:00+01:00");
    CHECK(breaches(*l.s, f)["breaches"].empty());
}
