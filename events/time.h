#pragma once
// Times on the wire: RFC 3339 with an offset, calendar dates and months.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ledger::events {

/// An instant, microsecond precision, UTC.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// Why a time did not parse.
enum class time_problem { none, malformed, no_offset, out_of_range };

struct parsed_time {
    timestamp at{};
    time_problem problem = time_problem::none;
};

/// Parses RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (T/Z in either case). A time without
/// offset reports time_problem::no_offset; digits beyond microseconds are truncated.
[[nodiscard]] parsed_time parse_rfc3339(std::string_view text);

/// `YYYY-MM-DD`, a real calendar date.
[[nodiscard]] std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
/// `YYYY-MM`.
[[nodiscard]] std::optional<std::chrono::year_month> parse_month(std::string_view text);

/// UTC RFC 3339 with milliseconds: 2026-11-22T04:55:20.232Z (how the ledger writes recorded_at).
[[nodiscard]] std::string format_utc(timestamp t);

/// A duration as people read it, whole units, the sign dropped: "45 s", "12 min", "2 h 5 min",
/// "3 d 4 h".
[[nodiscard]] std::string duration_words(std::chrono::seconds d);

}  // namespace ledger::events
