#pragma once
// Availability per service and calendar month (domain.md 3.4): the service hours of the month
// in elapsed time (a March in Europe/Oslo has one hour fewer), the outage inside them less
// maintenance announced on time, the percentage, and a breach below the target.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/error.h"
#include "projections/calendar.h"
#include "projections/sla_policy.h"
#include "projections/store.h"

namespace ledger::projections {

struct interval {
    std::int64_t from_us = 0;
    std::int64_t to_us = 0;  ///< exclusive
};

struct availability_figures {
    std::int64_t service_seconds = 0;
    std::int64_t outage_seconds = 0;  ///< inside service hours, maintenance on notice excluded
    double percent = 100.0;
    bool breached = false;
};

/// The figures for `month` (local), counting only what happened before `until_us` (the time
/// asked; the month so far when it is not over). `outages` and `maintenance` in any order.
[[nodiscard]] availability_figures compute_availability(const service_hours& hours, double target_percent,
                                                        const std::vector<interval>& outages,
                                                        const std::vector<interval>& maintenance, const calendar& cal,
                                                        std::chrono::year_month month, std::int64_t until_us);

/// GET /v1/availability: {"service","month","service_minutes","outage_minutes","availability_percent",
/// "target_percent","breached",...}; nullopt if the service was never registered by then.
[[nodiscard]] std::optional<nlohmann::json> availability(store& s, const std::string& service,
                                                         std::chrono::year_month month,
                                                         std::optional<std::int64_t> as_of_us);

/// The sla_links keys the projector keeps for availability.
[[nodiscard]] std::string outage_link(const std::string& service_entity, std::int64_t start_us);
[[nodiscard]] std::string maintenance_link(const std::string& service_entity, const std::string& maintenance_entity);

}  // namespace ledger::projections
