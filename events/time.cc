#include "events/time.h"

#include <fmt/format.h>

namespace ledger::events {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

std::optional<std::chrono::year_month_day> date_at(std::string_view s) {
    int y, m, d;
    if (s.size() < 10 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, m) || s[7] != '-' ||
        !digits(s, 8, 2, d)) {
        return std::nullopt;
    }
    std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                    std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

}  // namespace

parsed_time parse_rfc3339(std::string_view s) {
    using namespace std::chrono;
    parsed_time out;
    int y, mo, d, h, mi, sec;
    if (s.size() < 19 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
        !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec)) {
        out.problem = time_problem::malformed;
        return out;
    }
    const auto ymd = date_at(s);
    if (!ymd || h > 23 || mi > 59 || sec > 59) {
        out.problem = time_problem::out_of_range;
        return out;
    }
    std::size_t pos = 19;
    long long micros = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        int scale = 100000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (scale > 0) {
                micros += (s[pos] - '0') * scale;
                scale /= 10;
            }
            ++pos;
        }
        if (pos == start) {
            out.problem = time_problem::malformed;
            return out;
        }
    }
    if (pos == s.size()) {
        out.problem = time_problem::no_offset;
        return out;
    }
    int offset_minutes = 0;
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
        offset_minutes = 0;
    } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size()) {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh) || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om)) {
            out.problem = time_problem::malformed;
            return out;
        }
        if (oh > 23 || om > 59) {
            out.problem = time_problem::out_of_range;
            return out;
        }
        offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
        out.problem = time_problem::malformed;
        return out;
    }
    const auto local = sys_days(*ymd) + hours(h) + minutes(mi) + seconds(sec) + microseconds(micros);
    out.at = time_point_cast<microseconds>(local - minutes(offset_minutes));
    return out;
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
    if (text.size() != 10) return std::nullopt;
    return date_at(text);
}

std::optional<std::chrono::year_month> parse_month(std::string_view s) {
    int y, m;
    if (s.size() != 7 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, m) || m < 1 || m > 12) {
        return std::nullopt;
    }
    return std::chrono::year_month{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)}};
}

std::string format_utc(timestamp t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{floor<milliseconds>(t - day)};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string duration_words(std::chrono::seconds d) {
    auto s = d.count() < 0 ? -d.count() : d.count();
    if (s < 60) return std::to_string(s) + " s";
    const auto minutes = s / 60;
    if (minutes < 60) return std::to_string(minutes) + " min";
    const auto hours = minutes / 60;
    if (hours < 24) {
        return std::to_string(hours) + " h" + (minutes % 60 ? " " + std::to_string(minutes % 60) + " min" : "");
    }
    return std::to_string(hours / 24) + " d" + (hours % 24 ? " " + std::to_string(hours % 24) + " h" : "");
}

}  // namespace ledger::events
