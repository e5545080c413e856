#include <catch2/catch.hpp>

#include "events/time.h"

using namespace ledger::events;
using namespace std::chrono;

TEST_CASE("RFC 3339 times with offset parse to the same instant") {
    struct row {
        const char* text;
        const char* utc;
    };
    const auto r = GENERATE(row{"2026-03-02T10:15:00+01:00", "2026-03-02T09:15:00.000Z"},
                            row{"2026-03-02T09:15:00Z", "2026-03-02T09:15:00.000Z"},
                            row{"2026-03-02t09:15:00z", "2026-03-02T09:15:00.000Z"},
                            row{"2026-03-29T01:59:59.999+01:00", "2026-03-29T00:59:59.999Z"},
                            row{"2026-10-25T02:30:00+02:00", "2026-10-25T00:30:00.000Z"},
                            row{"2026-10-25T02:30:00+01:00", "2026-10-25T01:30:00.000Z"},
                            row{"2024-02-29T23:00:00-05:30", "2024-03-01T04:30:00.000Z"},
                            row{"2026-01-01T00:00:00.123456789Z", "2026-01-01T00:00:00.123Z"});
    const auto parsed = parse_rfc3339(r.text);
    REQUIRE(parsed.problem == time_problem::none);
    CHECK(format_utc(parsed.at) == r.utc);
}

TEST_CASE("times without offset, malformed or impossible, are told apart") {
    CHECK(parse_rfc3339("2026-03-02T10:15:00").problem == time_problem::no_offset);
    CHECK(parse_rfc3339("2026-03-02T10:15:00.5").problem == time_problem::no_offset);
    CHECK(parse_rfc3339("2026-03-02 10:15:00Z").problem == time_problem::malformed);
    CHECK(parse_rfc3339("2026-03-02T10:15Z").problem == time_problem::malformed);
    CHECK(parse_rfc3339("2026-03-02T10:15:00+0100").problem == time_problem::malformed);
    CHECK(parse_rfc3339("yesterday").problem == time_problem::malformed);
    CHECK(parse_rfc3339("2026-02-30T10:15:00Z").problem == time_problem::out_of_range);
    CHECK(parse_rfc3339("2026-03-02T24:00:00Z").problem == time_problem::out_of_range);
    CHECK(parse_rfc3339("2026-03-02T10:15:00+25:00").problem == time_problem::out_of_range);
}

TEST_CASE("dates and months") {
    CHECK(parse_date("2028-02-29").has_value());
    CHECK_FALSE(parse_date("2026-02-29").has_value());
    CHECK_FALSE(parse_date("2026-2-1").has_value());
    CHECK(parse_month("2026-12").has_value());
    CHECK_FALSE(parse_month("2026-13").has_value());
    CHECK_FALSE(parse_month("2026-1").has_value());
}
