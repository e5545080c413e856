// The business calendar of domain.md 3.3, table-driven: Norwegian holidays (the Easter-dependent
// ones of 2025–2030), working-day arithmetic across Christmas and New Year, the daylight-saving
// switches (last Sunday of March and October), the summer-hours edges (14/15 May, 15/16 Sep),
// a report outside opening hours, notice periods and "by the 10th of the following month".
#include <string>

#include <catch2/catch.hpp>

#include "events/time.h"
#include "projections/calendar.h"

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::year;
using std::chrono::March;
using std::chrono::February;
using std::chrono::September;
using std::chrono::December;
using ledger::events::timestamp;
using ledger::projections::calendar;
using ledger::projections::civil_day;

namespace {

civil_day on(const std::string& text) {
    const auto d = ledger::events::parse_date(text);
    REQUIRE(d.has_value());
    return civil_day{*d};
}

timestamp at(const std::string& rfc3339) {
    const auto t = ledger::events::parse_rfc3339(rfc3339);
    REQUIRE(t.problem == ledger::events::time_problem::none);
    return t.at;
}

}  // namespace

TEST_CASE("Easter Sunday and the holidays that hang on it, 2025-2030") {
    struct row {
        int year;
        const char *easter, *maundy, *good_friday, *easter_monday, *ascension, *whit_monday;
    };
    const row rows[] = {
        {2025, "2025-04-20", "2025-04-17", "2025-04-18", "2025-04-21", "2025-05-29", "2025-06-09"},
        {2026, "2026-04-05", "2026-04-02", "2026-04-03", "2026-04-06", "2026-05-14", "2026-05-25"},
        {2027, "2027-03-28", "2027-03-25", "2027-03-26", "2027-03-29", "2027-05-06", "2027-05-17"},
        {2028, "2028-04-16", "2028-04-13", "2028-04-14", "2028-04-17", "2028-05-25", "2028-06-05"},
        {2029, "2029-04-01", "2029-03-29", "2029-03-30", "2029-04-02", "2029-05-10", "2029-05-21"},
        {2030, "2030-04-21", "2030-04-18", "2030-04-19", "2030-04-22", "2030-05-30", "2030-06-10"},
    };
    calendar cal;
    for (const auto& r : rows) {
        INFO(r.year);
        CHECK(calendar::easter_sunday(r.year) == on(r.easter));
        for (const char* h : {r.maundy, r.good_friday, r.easter_monday, r.ascension, r.whit_monday}) {
            INFO(h);
            CHECK(calendar::is_public_holiday(on(h)));
            CHECK_FALSE(cal.is_working_day(on(h)));
        }
        // The day before Maundy Thursday and the day after Easter Monday are working days.
        CHECK(cal.is_working_day(on(r.maundy) - days{1}));
        CHECK(cal.is_working_day(on(r.easter_monday) + days{1}));
        CHECK(calendar::public_holidays(r.year).size() == 10);
    }
}

TEST_CASE("Fixed holidays, weekends and ordinary days") {
    calendar cal;
    struct row {
        const char* date;
        bool working;
    };
    const row rows[] = {
        {"2026-01-01", false},  // New Year's Day
        {"2026-05-01", false},  // Labour Day (Friday)
        {"2026-05-17", false},  // Constitution Day (a Sunday anyway)
        {"2027-05-17", false},  // Constitution Day and Whit Monday at once
        {"2026-12-24", true},   // Christmas Eve is not a public holiday
        {"2026-12-25", false},
        {"2026-12-26", false},
        {"2026-12-31", true},
        {"2026-11-21", false},  // Saturday
        {"2026-11-22", false},  // Sunday
        {"2026-11-23", true},   // Monday
        {"2026-05-18", true},   // the Monday after 17 May
    };
    for (const auto& r : rows) {
        INFO(r.date);
        CHECK(cal.is_working_day(on(r.date)) == r.working);
    }
}

TEST_CASE("Within N working days: by 24:00 of the N-th working day after the local date") {
    calendar cal;
    struct row {
        const char* from;
        int n;
        const char* due;  // the instant: 00:00 local of the day after the N-th working day
    };
    const row rows[] = {
        // Christmas and New Year 2025/26: 25, 26 Dec and 1 Jan are holidays, 24 and 31 Dec are not.
        {"2025-12-22T10:00:00+01:00", 5, "2026-01-01T00:00:00+01:00"},  // 23,24,29,30,31
        {"2025-12-22T10:00:00+01:00", 6, "2026-01-03T00:00:00+01:00"},  // ... and Fri 2 Jan
        {"2026-12-23T15:00:00+01:00", 3, "2026-12-30T00:00:00+01:00"},  // 24, 28, 29
        // A late-evening event counts from its local date, not its UTC date.
        {"2026-11-20T23:30:00+01:00", 1, "2026-11-24T00:00:00+01:00"},  // Fri → Mon
        {"2026-11-20T22:30:00Z", 1, "2026-11-24T00:00:00+01:00"},       // the same instant
        // Across Easter 2026 (2, 3, 6 April are holidays).
        {"2026-04-01T09:00:00+02:00", 1, "2026-04-08T00:00:00+02:00"},  // Wed → Tue 7 Apr
        // 20 working days from 1 Dec 2026: 2–31 Dec less weekends and 25 Dec.
        {"2026-12-01T12:00:00+01:00", 20, "2026-12-31T00:00:00+01:00"},
        // Across the March switch: the deadline is local midnight in summer time.
        {"2026-03-27T12:00:00+01:00", 1, "2026-03-31T00:00:00+02:00"},
    };
    for (const auto& r : rows) {
        INFO(r.from << " + " << r.n);
        CHECK(cal.within_working_days(at(r.from), r.n) == at(r.due));
    }
}

TEST_CASE("Working days strictly between two dates, and the last moment for a notice") {
    calendar cal;
    CHECK(cal.working_days_between(on("2025-12-24"), on("2026-01-02")) == 3);  // 29, 30, 31
    CHECK(cal.working_days_between(on("2026-11-23"), on("2026-11-24")) == 0);
    CHECK(cal.working_days_between(on("2026-11-22"), on("2026-11-30")) == 5);

    struct row {
        const char* starts;
        int n;
        const char* last;  // a notice before this instant is on time
    };
    const row rows[] = {
        // Maintenance Mon 30 Nov: 5 working days strictly between → announced by Sun 22 Nov.
        {"2026-11-30T10:00:00+01:00", 5, "2026-11-23T00:00:00+01:00"},
        // seres: 3 working days → by Tue 24 Nov (25, 26, 27 between).
        {"2026-11-30T10:00:00+01:00", 3, "2026-11-25T00:00:00+01:00"},
        // Starting Mon 4 Jan 2027: 31 Dec, 30 Dec, 29 Dec, 28 Dec, 24 Dec (25 Dec a holiday).
        {"2027-01-04T06:00:00+01:00", 5, "2026-12-24T00:00:00+01:00"},
    };
    for (const auto& r : rows) {
        INFO(r.starts << " - " << r.n);
        const auto last = cal.last_notice_for(at(r.starts), r.n);
        CHECK(last == at(r.last));
        // The definition itself: a notice on the day before `last` has n days between, one on
        // `last`'s day has fewer.
        const auto s = cal.local_date(at(r.starts));
        CHECK(cal.working_days_between(cal.local_date(last) - days{1}, s) >= r.n);
        CHECK(cal.working_days_between(cal.local_date(last), s) < r.n);
    }
}

TEST_CASE("Daylight saving: local midnights and opening times on the switch days") {
    calendar cal;
    // 29 March 2026 (last Sunday of March) has 23 hours; 25 October 2026 has 25.
    CHECK(cal.end_of_day(on("2026-03-29")) - cal.end_of_day(on("2026-03-28")) == hours{23});
    CHECK(cal.end_of_day(on("2026-10-25")) - cal.end_of_day(on("2026-10-24")) == hours{25});
    CHECK(cal.at_local(on("2026-03-27"), hours{8}) == at("2026-03-27T07:00:00Z"));
    CHECK(cal.at_local(on("2026-03-30"), hours{8}) == at("2026-03-30T06:00:00Z"));
    CHECK(cal.at_local(on("2026-10-23"), hours{8}) == at("2026-10-23T06:00:00Z"));
    CHECK(cal.at_local(on("2026-10-26"), hours{8}) == at("2026-10-26T07:00:00Z"));
    // The local date of instants around the switches.
    CHECK(cal.local_date(at("2026-03-28T23:30:00Z")) == on("2026-03-29"));  // 00:30 CET
    CHECK(cal.local_date(at("2026-10-24T22:30:00Z")) == on("2026-10-25"));  // 00:30 CEST
    CHECK(cal.local_date(at("2026-10-25T22:59:59Z")) == on("2026-10-25"));  // 23:59:59 CET
    CHECK(cal.local_date(at("2026-10-25T23:00:00Z")) == on("2026-10-26"));
}

TEST_CASE("Opening hours: 08:00-15:45, 08:00-15:00 from 15 May to 15 Sep inclusive") {
    calendar cal;
    struct row {
        const char* when;
        bool open;
    };
    const row rows[] = {
        {"2025-05-14T15:30:00+02:00", true},   // Wednesday before the summer period
        {"2025-05-15T15:30:00+02:00", false},  // first summer day closes at 15:00
        {"2025-05-15T14:59:59+02:00", true},
        {"2025-09-15T15:00:00+02:00", false},  // last summer day
        {"2025-09-16T15:44:59+02:00", true},   // winter hours again
        {"2025-09-16T15:45:00+02:00", false},
        {"2025-09-16T07:59:59+02:00", false},
        {"2025-09-16T08:00:00+02:00", true},
        {"2026-05-14T10:00:00+02:00", false},  // Ascension Day 2026
        {"2026-11-21T10:00:00+01:00", false},  // Saturday
    };
    for (const auto& r : rows) {
        INFO(r.when);
        CHECK(cal.is_open(at(r.when)) == r.open);
    }
    CHECK(cal.closes_on(on("2025-05-14")) == minutes{15 * 60 + 45});
    CHECK(cal.closes_on(on("2025-05-15")) == minutes{15 * 60});
    CHECK(cal.closes_on(on("2025-09-15")) == minutes{15 * 60});
    CHECK(cal.closes_on(on("2025-09-16")) == minutes{15 * 60 + 45});
}

TEST_CASE("The next opening: a report outside opening hours starts the clock then") {
    calendar cal;
    struct row {
        const char *when, *next;
    };
    const row rows[] = {
        // A Friday evening (category B incident) → Monday 08:00.
        {"2026-11-20T18:00:00+01:00", "2026-11-23T08:00:00+01:00"},
        {"2026-11-20T15:45:00+01:00", "2026-11-23T08:00:00+01:00"},
        {"2026-11-20T15:44:00+01:00", "2026-11-20T15:44:00+01:00"},  // open: the clock starts now
        {"2026-11-23T06:30:00+01:00", "2026-11-23T08:00:00+01:00"},  // early on a working day
        // A summer Friday after 15:00.
        {"2025-06-13T15:10:00+02:00", "2025-06-16T08:00:00+02:00"},
        // The evening before Maundy Thursday 2026 → Tuesday 7 April after Easter.
        {"2026-04-01T16:00:00+02:00", "2026-04-07T08:00:00+02:00"},
        // Saturday 28 March 2026 (CET) → Monday 30 March in summer time.
        {"2026-03-28T12:00:00+01:00", "2026-03-30T08:00:00+02:00"},
        // Friday 23 October 2026 evening (CEST) → Monday 26 October in winter time.
        {"2026-10-23T20:00:00+02:00", "2026-10-26T08:00:00+01:00"},
    };
    for (const auto& r : rows) {
        INFO(r.when);
        CHECK(cal.next_opening(at(r.when)) == at(r.next));
    }
    // Category B on a Friday evening: 8 elapsed hours from Monday's opening is Monday 16:00.
    CHECK(cal.next_opening(at("2026-11-20T18:00:00+01:00")) + hours{8} == at("2026-11-23T16:00:00+01:00"));
    // Category A across the March switch: 5 real hours, so 6 on the wall clock.
    CHECK(at("2026-03-29T00:30:00+01:00") + hours{5} == at("2026-03-29T06:30:00+02:00"));
}

TEST_CASE("By the 10th (15th) of the following month: before 00:00 local on the 11th (16th)") {
    calendar cal;
    CHECK(cal.by_day_of_following_month(year{2026} / March, 10) == at("2026-04-11T00:00:00+02:00"));
    CHECK(cal.by_day_of_following_month(year{2026} / February, 10) == at("2026-03-11T00:00:00+01:00"));
    CHECK(cal.by_day_of_following_month(year{2026} / December, 15) == at("2027-01-16T00:00:00+01:00"));
    CHECK(cal.by_day_of_following_month(year{2026} / September, 10) == at("2026-10-11T00:00:00+02:00"));
}

TEST_CASE("calendar.holiday_added and holiday_removed") {
    calendar cal;
    const auto from = at("2026-12-23T15:00:00+01:00");
    CHECK(cal.within_working_days(from, 3) == at("2026-12-30T00:00:00+01:00"));
    cal.set_holiday(on("2026-12-24"), true);
    CHECK_FALSE(cal.is_working_day(on("2026-12-24")));
    CHECK(cal.within_working_days(from, 3) == at("2026-12-31T00:00:00+01:00"));
    cal.set_holiday(on("2026-12-24"), false);
    CHECK(cal.is_working_day(on("2026-12-24")));
    CHECK(cal.within_working_days(from, 3) == at("2026-12-30T00:00:00+01:00"));
    // A removal takes back an added day; a public holiday stays one.
    cal.set_holiday(on("2026-12-25"), false);
    CHECK_FALSE(cal.is_working_day(on("2026-12-25")));
}
