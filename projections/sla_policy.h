#pragma once
// The SLA policy of domain.md 3.3 and 3.4 as data: every deadline, the opening hours with the
// summer period, and the availability service hours and targets per environment. The defaults
// are those of the source documents; `--policy FILE` (TOML) overrides any of them. The policy in
// force is shown with the results (to_json).

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "events/error.h"
#include "projections/calendar.h"

namespace ledger::projections {

/// When a service is expected to be up, and how much of that time (domain.md 3.4).
struct service_hours {
    enum class days_kind { every_day, monday_to_friday, working_days };
    days_kind days = days_kind::every_day;
    std::chrono::minutes from{0};
    std::chrono::minutes to{24 * 60};
    double target_percent = 99.9;
};

struct sla_policy {
    opening_hours hours;

    std::chrono::seconds incident_a{std::chrono::hours{5}};  ///< category A: elapsed after the report
    std::chrono::seconds incident_b{std::chrono::hours{8}};  ///< B: elapsed after the report or next opening
    int incident_c_working_days = 3;                         ///< C: within N working days
    std::chrono::seconds incident_feedback{std::chrono::hours{1}};
    int maintenance_notice_working_days = 5;
    int maintenance_notice_working_days_seres = 3;
    int request_feedback_working_days = 5;
    int request_qualification_working_days = 20;
    int request_analysis_working_days = 20;
    std::chrono::seconds report_approval{std::chrono::days{5}};
    unsigned uptime_report_day = 10;  ///< by the Nth of the following month
    unsigned status_report_day = 15;
    std::chrono::seconds key_rotation_warning{std::chrono::days{30}};
    std::chrono::seconds access_review{std::chrono::days{365}};

    /// By service environment: production, development, test, seres.
    std::map<std::string, service_hours> availability{
        {"production", {service_hours::days_kind::every_day, std::chrono::minutes{0}, std::chrono::minutes{24 * 60}, 99.9}},
        {"development",
         {service_hours::days_kind::monday_to_friday, std::chrono::minutes{7 * 60}, std::chrono::minutes{20 * 60}, 99.8}},
        {"test", {service_hours::days_kind::monday_to_friday, std::chrono::minutes{7 * 60}, std::chrono::minutes{17 * 60}, 99.0}},
        {"seres", {service_hours::days_kind::working_days, std::chrono::minutes{7 * 60}, std::chrono::minutes{20 * 60}, 99.8}},
    };

    /// The defaults overridden by a TOML file. Unknown keys, wrong types and values out of range
    /// are refused with the field named (e.g. "incident_resolution.A_hours").
    [[nodiscard]] static result<sla_policy> load(const std::filesystem::path& file);
    [[nodiscard]] static result<sla_policy> parse(std::string_view toml_text, const std::string& source = "policy");

    /// The policy in force, in the TOML's own names.
    [[nodiscard]] nlohmann::json to_json() const;
    /// The same as a policy file that parse() reads back to this policy (kept in the data
    /// directory: the read models were computed under it).
    [[nodiscard]] std::string to_toml() const;
};

}  // namespace ledger::projections
