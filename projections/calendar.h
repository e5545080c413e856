#pragma once
// The business calendar of domain.md 3.3, in Europe/Oslo through Howard Hinnant's date/tz on the
// system tzdata: working days (Monday–Friday except Norwegian public holidays and the days added
// by calendar.holiday_added, minus holiday_removed), opening hours with the summer period, and the
// deadline arithmetic of the SLA obligations.
//
// A calendar date is a std::chrono::sys_days holding the *local* civil date (a day number, no
// instant); instants are events::timestamp (UTC, microseconds).

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/time.h"

namespace date {
class time_zone;
}

namespace ledger::projections {

using civil_day = std::chrono::sys_days;  ///< a local calendar date (not an instant)

/// Opening hours on working days (domain.md 3.3): 08:00–15:45, 08:00–15:00 from 15 May to 15 Sep
/// inclusive. Overridable by the policy file.
struct opening_hours {
    std::chrono::minutes opens{8 * 60};
    std::chrono::minutes closes{15 * 60 + 45};
    std::chrono::minutes summer_closes{15 * 60};
    std::chrono::month_day summer_from{std::chrono::May / 15};
    std::chrono::month_day summer_to{std::chrono::September / 15};
};

struct public_holiday {
    civil_day day;
    std::string_view name;
};

class calendar {
public:
    /// The zone is Europe/Oslo unless another IANA name is given (tests only).
    explicit calendar(opening_hours hours = {}, std::string_view zone = "Europe/Oslo");

    // ---- holidays and working days ----
    [[nodiscard]] static civil_day easter_sunday(int year);
    /// The Norwegian public holidays of a year in date order: 1 Jan, Maundy Thursday, Good Friday,
    /// Easter Monday, 1 May, 17 May, Ascension Day, Whit Monday, 25 and 26 Dec.
    [[nodiscard]] static std::vector<public_holiday> public_holidays(int year);
    [[nodiscard]] static bool is_public_holiday(civil_day d);
    /// calendar.holiday_added (added = true) / holiday_removed (false); the latest event for a date
    /// wins. A removal takes back an added day: it does not make a public holiday a working day.
    void set_holiday(civil_day d, bool added);
    [[nodiscard]] bool is_holiday(civil_day d) const;
    [[nodiscard]] bool is_working_day(civil_day d) const;

    // ---- local time ----
    [[nodiscard]] civil_day local_date(events::timestamp t) const;
    /// The instant as people in the zone read it, with its offset: "2026-11-16 14:00 +01:00".
    [[nodiscard]] std::string format_local(events::timestamp t) const;
    /// The instant of `d` at `time` local time (the earlier one if the clock hour repeats).
    [[nodiscard]] events::timestamp at_local(civil_day d, std::chrono::minutes time = std::chrono::minutes{0}) const;
    /// The start (00:00 local) of the day after `d`: "24:00" of d.
    [[nodiscard]] events::timestamp end_of_day(civil_day d) const;

    // ---- opening hours ----
    [[nodiscard]] bool is_summer(civil_day d) const;
    /// Closing time on a working day (the summer period closes earlier).
    [[nodiscard]] std::chrono::minutes closes_on(civil_day d) const;
    [[nodiscard]] bool is_open(events::timestamp t) const;
    /// `t` itself if the office is open then, else the next opening (08:00 of the next working day,
    /// or of the same day before it opens).
    [[nodiscard]] events::timestamp next_opening(events::timestamp t) const;

    // ---- the arithmetic of domain.md 3.3 ----
    /// The n-th working day after d (d itself not counted; n ≥ 1).
    [[nodiscard]] civil_day working_day_after(civil_day d, int n) const;
    /// "Within n working days of t": the end (24:00) of the n-th working day after t's local date.
    [[nodiscard]] events::timestamp within_working_days(events::timestamp t, int n) const;
    /// Working days strictly between two local dates (0 if b ≤ a + 1).
    [[nodiscard]] int working_days_between(civil_day a, civil_day b) const;
    /// "At least n working days before s": the last moment a notice can be given, i.e. the end
    /// (24:00) of the latest date with n working days strictly between it and s's local date.
    [[nodiscard]] events::timestamp last_notice_for(events::timestamp s, int n) const;
    /// "By the `day`-th of the month after `period`": before 00:00 local on day + 1 of that month.
    [[nodiscard]] events::timestamp by_day_of_following_month(std::chrono::year_month period, unsigned day) const;

    [[nodiscard]] const opening_hours& hours() const { return _hours; }

private:
    opening_hours _hours;
    const date::time_zone* _zone;
    std::map<civil_day, bool> _overrides;  ///< date → added (true) / removed (false)
};

}  // namespace ledger::projections
