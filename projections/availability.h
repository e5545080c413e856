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

/// A service's registration (service.registered) as in force at a time.
struct service_registration {
    std::string system;
    std::string environment;
    std::optional<double> target;
    std::int64_t first_us = 0;  ///< when it was first registered
};
/// The last registration of `entity` that had occurred by `at_us`, or nullopt.
[[nodiscard]] std::optional<service_registration> registration_at(store& s, MDB_txn* txn, const std::string& entity,
                                                                  std::int64_t at_us);

/// One service's month as of a time: its registration in force then, target and figures.
struct service_month {
    service_registration registration;
    double target = 0;
    std::int64_t month_start_us = 0, month_end_us = 0;
    std::int64_t until_us = 0;  ///< the month's end, or the time asked if earlier (the month so far)
    availability_figures figures;
};
/// nullopt when the service had no registration in force by the end of `month` (or by the time
/// asked), or the month had not begun.
[[nodiscard]] std::optional<service_month> availability_of(store& s, MDB_txn* txn, const calendar& cal,
                                                           const std::string& entity, std::chrono::year_month month,
                                                           std::int64_t as_of_us);

/// GET /v1/availability: {"service","month","service_minutes","outage_minutes","availability_percent",
/// "target_percent","breached","month_so_far",...} under the registration in force that month;
/// nullopt if the service was not registered by the month's end (or by the time asked).
[[nodiscard]] std::optional<nlohmann::json> availability(store& s, const std::string& service,
                                                         std::chrono::year_month month,
                                                         std::optional<std::int64_t> as_of_us);

/// The sla_links keys the projector keeps for availability.
[[nodiscard]] std::string outage_link(const std::string& service_entity, std::int64_t start_us);
[[nodiscard]] std::string maintenance_link(const std::string& service_entity, const std::string& maintenance_entity);

}  // namespace ledger::projections
