// Availability (domain.md 3.4), table-driven: service minutes per environment in elapsed time
// (March and October in Europe/Oslo), outages inside service hours only, maintenance with an
// on-time notice excluded, the target, and the month so far.
#include <catch2/catch.hpp>

#include "events/time.h"
#include "projections/availability.h"

using namespace ledger::projections;
using std::chrono::year;

namespace {

std::int64_t us(const std::string& rfc3339) {
    const auto t = ledger::events::parse_rfc3339(rfc3339);
    REQUIRE(t.problem == ledger::events::time_problem::none);
    return t.at.time_since_epoch().count();
}
interval span(const std::string& from, const std::string& to) { return {us(from), us(to)}; }
constexpr std::int64_t far_future = 4'000'000'000'000'000LL;

}  // namespace

TEST_CASE("Service minutes per environment, in elapsed time") {
    const sla_policy policy;
    const calendar cal(policy.hours);
    struct row {
        const char* environment;
        std::chrono::year_month month;
        std::int64_t minutes;
    };
    const row rows[] = {
        {"production", year{2026} / std::chrono::March, (31 * 24 - 1) * 60},    // one hour fewer
        {"production", year{2026} / std::chrono::October, (31 * 24 + 1) * 60},  // one hour more
        {"production", year{2026} / std::chrono::November, 30 * 24 * 60},
        {"development", year{2026} / std::chrono::March, 22 * 13 * 60},  // Mon-Fri 07-20
        {"test", year{2026} / std::chrono::March, 22 * 10 * 60},         // Mon-Fri 07-17
        {"seres", year{2026} / std::chrono::March, 22 * 13 * 60},        // no holiday in March 2026
        {"seres", year{2026} / std::chrono::April, 19 * 13 * 60},        // 2, 3 and 6 April are holidays
        {"development", year{2026} / std::chrono::April, 22 * 13 * 60},  // Mon-Fri, holidays or not
    };
    for (const auto& r : rows) {
        INFO(r.environment << " " << static_cast<unsigned>(r.month.month()));
        const auto f = compute_availability(policy.availability.at(r.environment), 99.9, {}, {}, cal, r.month, far_future);
        CHECK(f.service_seconds == r.minutes * 60);
        CHECK(f.outage_seconds == 0);
        CHECK(f.percent == 100.0);
        CHECK_FALSE(f.breached);
    }
}

TEST_CASE("Outage minutes: inside service hours, maintenance on notice excluded, across the switches") {
    const sla_policy policy;
    const calendar cal(policy.hours);
    const auto& production = policy.availability.at("production");
    const auto& development = policy.availability.at("development");
    const auto march = year{2026} / std::chrono::March;
    const auto october = year{2026} / std::chrono::October;

    // 45 minutes down in March (44,580 service minutes): 99.8991 % < 99.9 %: a breach.
    auto f = compute_availability(production, 99.9, {span("2026-03-10T10:00:00+01:00", "2026-03-10T10:45:00+01:00")}, {},
                                  cal, march, far_future);
    CHECK(f.outage_seconds == 45 * 60);
    CHECK(f.percent == Approx(99.8991).margin(0.00005));
    CHECK(f.breached);
    // 44 minutes: 99.9013 %, no breach.
    f = compute_availability(production, 99.9, {span("2026-03-10T10:00:00+01:00", "2026-03-10T10:44:00+01:00")}, {}, cal,
                             march, far_future);
    CHECK_FALSE(f.breached);

    // Across the March switch 01:30 CET → 03:30 CEST is one real hour; October's 02:30 CEST →
    // 02:30 CET is one too.
    f = compute_availability(production, 99.9, {span("2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00")}, {}, cal,
                             march, far_future);
    CHECK(f.outage_seconds == 3600);
    f = compute_availability(production, 99.9, {span("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00")}, {}, cal,
                             october, far_future);
    CHECK(f.outage_seconds == 3600);
    CHECK(f.service_seconds == (31 * 24 + 1) * 3600);

    // Development: only Mon-Fri 07-20 counts. Saturday and the evening are outside.
    f = compute_availability(development, 99.8,
                             {span("2026-03-14T10:00:00+01:00", "2026-03-14T12:00:00+01:00"),   // Saturday
                              span("2026-03-10T19:00:00+01:00", "2026-03-10T22:00:00+01:00")},  // 1 h inside
                             {}, cal, march, far_future);
    CHECK(f.outage_seconds == 3600);

    // Announced maintenance (on time) is not outage; the rest of the outage is.
    f = compute_availability(production, 99.9, {span("2026-03-10T18:00:00+01:00", "2026-03-10T21:00:00+01:00")},
                             {span("2026-03-10T18:00:00+01:00", "2026-03-10T20:00:00+01:00")}, cal, march, far_future);
    CHECK(f.outage_seconds == 3600);

    // Overlapping outage records count once; an outage reaching into April counts to March's end.
    f = compute_availability(production, 99.9,
                             {span("2026-03-31T23:00:00+02:00", "2026-04-01T01:00:00+02:00"),
                              span("2026-03-31T23:30:00+02:00", "2026-03-31T23:45:00+02:00")},
                             {}, cal, march, far_future);
    CHECK(f.outage_seconds == 3600);
}

TEST_CASE("The month so far: service and outage up to the time asked") {
    const sla_policy policy;
    const calendar cal(policy.hours);
    const auto f = compute_availability(policy.availability.at("production"), 99.9,
                                        {span("2026-11-03T10:00:00+01:00", "2026-11-03T11:30:00+01:00"),
                                         span("2026-11-20T11:00:00+01:00", "2026-11-20T14:00:00+01:00")},
                                        {}, cal, year{2026} / std::chrono::November, us("2026-11-20T12:00:00+01:00"));
    CHECK(f.service_seconds == (19 * 24 + 12) * 3600);
    CHECK(f.outage_seconds == (90 + 60) * 60);
}
