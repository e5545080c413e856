#include "projections/calendar.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

#include <date/tz.h>
#include <fmt/format.h>

namespace ledger::projections {
namespace {

using std::chrono::days;
using std::chrono::minutes;

date::local_seconds to_local_seconds(civil_day d, minutes time) {
    return date::local_seconds{std::chrono::duration_cast<std::chrono::seconds>(d.time_since_epoch() + time)};
}

bool weekend(civil_day d) {
    const std::chrono::weekday wd{d};
    return wd == std::chrono::Saturday || wd == std::chrono::Sunday;
}

}  // namespace

calendar::calendar(opening_hours hours, std::string_view zone)
    : _hours(hours), _zone(date::locate_zone(std::string(zone))) {}

// The anonymous Gregorian algorithm (Meeus/Jones/Butcher).
civil_day calendar::easter_sunday(int year) {
    const int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
    const int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    const int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
    return civil_day{std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
                     std::chrono::day{static_cast<unsigned>(day)}};
}

std::vector<public_holiday> calendar::public_holidays(int year) {
    using namespace std::chrono;
    const auto y = std::chrono::year{year};
    const auto easter = easter_sunday(year);
    return {
        {sys_days{y / January / 1}, "New Year's Day"},
        {easter - days{3}, "Maundy Thursday"},
        {easter - days{2}, "Good Friday"},
        {easter + days{1}, "Easter Monday"},
        {sys_days{y / May / 1}, "Labour Day"},
        {sys_days{y / May / 17}, "Constitution Day"},
        {easter + days{39}, "Ascension Day"},
        {easter + days{50}, "Whit Monday"},
        {sys_days{y / December / 25}, "Christmas Day"},
        {sys_days{y / December / 26}, "Boxing Day"},
    };
}

bool calendar::is_public_holiday(civil_day d) {
    const int year = static_cast<int>(std::chrono::year_month_day{d}.year());
    for (const auto& h : public_holidays(year)) {
        if (h.day == d) return true;
    }
    return false;
}

void calendar::set_holiday(civil_day d, bool added) { _overrides[d] = added; }

bool calendar::is_holiday(civil_day d) const {
    if (is_public_holiday(d)) return true;
    const auto it = _overrides.find(d);
    return it != _overrides.end() && it->second;
}

bool calendar::is_working_day(civil_day d) const { return !weekend(d) && !is_holiday(d); }

civil_day calendar::local_date(events::timestamp t) const {
    const auto local = _zone->to_local(std::chrono::floor<std::chrono::seconds>(t));
    return civil_day{std::chrono::floor<days>(local.time_since_epoch())};
}

std::string calendar::format_local(events::timestamp t) const {
    const auto secs = std::chrono::floor<std::chrono::seconds>(t);
    const auto info = _zone->get_info(secs);
    const auto local = secs + info.offset;
    const auto day = std::chrono::floor<days>(local);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{local - day};
    const auto off = std::chrono::duration_cast<minutes>(info.offset).count();
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} {}{:02}:{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), off < 0 ? '-' : '+', std::abs(off) / 60, std::abs(off) % 60);
}

events::timestamp calendar::at_local(civil_day d, minutes time) const {
    const auto sys = _zone->to_sys(to_local_seconds(d, time), date::choose::earliest);
    return events::timestamp{std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch())};
}

events::timestamp calendar::end_of_day(civil_day d) const { return at_local(d + days{1}); }

bool calendar::is_summer(civil_day d) const {
    const std::chrono::year_month_day ymd{d};
    const std::chrono::month_day md{ymd.month(), ymd.day()};
    return !(md < _hours.summer_from) && !(_hours.summer_to < md);
}

minutes calendar::closes_on(civil_day d) const { return is_summer(d) ? _hours.summer_closes : _hours.closes; }

bool calendar::is_open(events::timestamp t) const {
    const auto d = local_date(t);
    if (!is_working_day(d)) return false;
    return at_local(d, _hours.opens) <= t && t < at_local(d, closes_on(d));
}

events::timestamp calendar::next_opening(events::timestamp t) const {
    if (is_open(t)) return t;
    auto d = local_date(t);
    if (is_working_day(d) && t < at_local(d, _hours.opens)) return at_local(d, _hours.opens);
    do {
        d += days{1};
    } while (!is_working_day(d));
    return at_local(d, _hours.opens);
}

civil_day calendar::working_day_after(civil_day d, int n) const {
    if (n < 1) throw std::invalid_argument("working_day_after: n must be at least 1");
    for (int found = 0; found < n;) {
        d += days{1};
        if (is_working_day(d)) ++found;
    }
    return d;
}

events::timestamp calendar::within_working_days(events::timestamp t, int n) const {
    return end_of_day(working_day_after(local_date(t), n));
}

int calendar::working_days_between(civil_day a, civil_day b) const {
    int count = 0;
    for (auto d = a + days{1}; d < b; d += days{1}) {
        if (is_working_day(d)) ++count;
    }
    return count;
}

events::timestamp calendar::last_notice_for(events::timestamp s, int n) const {
    // Walk back from the day before s's date; each working day passed is one more strictly
    // between the notice's date and s's.
    auto d = local_date(s) - days{1};
    for (int between = 0; between < n; d -= days{1}) {
        if (is_working_day(d)) ++between;
    }
    return end_of_day(d);
}

events::timestamp calendar::by_day_of_following_month(std::chrono::year_month period, unsigned day) const {
    const auto following = period + std::chrono::months{1};
    return at_local(civil_day{following / std::chrono::day{1}} + days{day});
}

}  // namespace ledger::projections
