#pragma once
// Small helpers the projection files share: instants as µs since the epoch (how the read models
// keep them), RFC 3339 in and out, and the visitor for the event variant.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "events/time.h"

namespace ledger::projections {

[[nodiscard]] inline std::int64_t micros(events::timestamp t) { return t.time_since_epoch().count(); }
[[nodiscard]] inline std::int64_t micros(std::chrono::seconds s) {
    return std::chrono::duration_cast<std::chrono::microseconds>(s).count();
}
[[nodiscard]] inline events::timestamp at_micros(std::int64_t us) {
    return events::timestamp{std::chrono::microseconds{us}};
}
/// An RFC 3339 time in µs, or nullopt if it is not one.
[[nodiscard]] inline std::optional<std::int64_t> micros_of(const std::string& rfc3339) {
    const auto p = events::parse_rfc3339(rfc3339);
    if (p.problem != events::time_problem::none) return std::nullopt;
    return micros(p.at);
}
/// µs as the API writes times: UTC, milliseconds.
[[nodiscard]] inline std::string iso(std::int64_t us) { return events::format_utc(at_micros(us)); }
/// Now, in µs since the epoch.
[[nodiscard]] inline std::int64_t now_us() {
    return micros(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
}

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace ledger::projections
