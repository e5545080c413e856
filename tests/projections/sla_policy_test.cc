// The SLA policy: the defaults of domain.md 3.3/3.4, overrides from TOML, and bad settings
// refused with the setting named.
#include <catch2/catch.hpp>

#include "projections/sla_policy.h"

using namespace std::chrono_literals;
using ledger::projections::service_hours;
using ledger::projections::sla_policy;

TEST_CASE("The built-in policy is domain.md's") {
    const sla_policy p;
    CHECK(p.incident_a == 5h);
    CHECK(p.incident_b == 8h);
    CHECK(p.incident_c_working_days == 3);
    CHECK(p.incident_feedback == 1h);
    CHECK(p.maintenance_notice_working_days == 5);
    CHECK(p.maintenance_notice_working_days_seres == 3);
    CHECK(p.request_feedback_working_days == 5);
    CHECK(p.request_qualification_working_days == 20);
    CHECK(p.request_analysis_working_days == 20);
    CHECK(p.report_approval == std::chrono::days{5});
    CHECK(p.uptime_report_day == 10);
    CHECK(p.status_report_day == 15);
    CHECK(p.key_rotation_warning == std::chrono::days{30});
    CHECK(p.access_review == std::chrono::days{365});
    CHECK(p.hours.opens == 8h);
    CHECK(p.hours.closes == 15h + 45min);
    CHECK(p.hours.summer_closes == 15h);
    const auto j = p.to_json();
    CHECK(j["opening_hours"]["summer_from"] == "05-15");
    CHECK(j["opening_hours"]["summer_to"] == "09-15");
    CHECK(j["availability"]["production"]["target_percent"] == 99.9);
    CHECK(j["availability"]["production"]["days"] == "every_day");
    CHECK(j["availability"]["development"]["from"] == "07:00");
    CHECK(j["availability"]["development"]["to"] == "20:00");
    CHECK(j["availability"]["test"]["to"] == "17:00");
    CHECK(j["availability"]["test"]["target_percent"] == 99.0);
    CHECK(j["availability"]["seres"]["days"] == "working_days");
    CHECK(j["availability"]["seres"]["target_percent"] == 99.8);
    CHECK(j["incident_resolution"]["A_hours"] == 5.0);
}

TEST_CASE("A policy file overrides what it names and keeps the rest") {
    const auto p = sla_policy::parse(R"(
[incident_resolution]
A_hours = 4
B_hours = 7.5
[opening_hours]
closes = "16:00"
summer_from = "06-01"
[maintenance_notice]
seres_working_days = 2
[uptime_report]
day_of_following_month = 5
[availability.test]
days = "working_days"
to = "18:00"
target_percent = 98.5
)");
    REQUIRE(p.has_value());
    CHECK(p.value().incident_a == 4h);
    CHECK(p.value().incident_b == 7h + 30min);
    CHECK(p.value().incident_c_working_days == 3);
    CHECK(p.value().hours.closes == 16h);
    CHECK(p.value().hours.summer_closes == 15h);
    CHECK(p.value().hours.summer_from == std::chrono::June / 1);
    CHECK(p.value().maintenance_notice_working_days == 5);
    CHECK(p.value().maintenance_notice_working_days_seres == 2);
    CHECK(p.value().uptime_report_day == 5);
    CHECK(p.value().status_report_day == 15);
    const auto& test = p.value().availability.at("test");
    CHECK(test.days == service_hours::days_kind::working_days);
    CHECK(test.from == 7h);
    CHECK(test.to == 18h);
    CHECK(test.target_percent == 98.5);
    CHECK(p.value().availability.at("production").target_percent == 99.9);
}

TEST_CASE("A bad policy is refused with the setting named") {
    struct row {
        const char* toml;
        const char* field;
    };
    const row rows[] = {
        {"[incident_resolution]\nA_hours = 0\n", "incident_resolution.A_hours"},
        {"[incident_resolution]\nA_hours = \"five\"\n", "incident_resolution.A_hours"},
        {"[incident_resolution]\nD_hours = 3\n", "incident_resolution.D_hours"},
        {"[incident_resolution]\nC_working_days = 2.5\n", "incident_resolution.C_working_days"},
        {"[opening_hours]\nopens = \"8\"\n", "opening_hours.opens"},
        {"[opening_hours]\ncloses = \"25:00\"\n", "opening_hours.closes"},
        {"[opening_hours]\nsummer_to = \"02-30\"\n", "opening_hours.summer_to"},
        {"[opening_hours]\ncloses = \"07:00\"\n", "opening_hours.closes"},
        {"[uptime_report]\nday_of_following_month = 31\n", "uptime_report.day_of_following_month"},
        {"[availability.staging]\ntarget_percent = 99\n", "availability.staging"},
        {"[availability.production]\ntarget_percent = 101\n", "availability.production.target_percent"},
        {"[availability.test]\ndays = \"weekends\"\n", "availability.test.days"},
        {"[availability.test]\nfrom = \"18:00\"\n", "availability.test.to"},
        {"[deadlines]\nx = 1\n", "deadlines"},
        {"[incident_resolution\n", "policy"},
    };
    for (const auto& r : rows) {
        INFO(r.toml);
        const auto p = sla_policy::parse(r.toml);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error().field == r.field);
        CHECK(p.error().message.find(r.field == std::string("policy") ? "policy" : r.field) != std::string::npos);
    }
}

TEST_CASE("A policy written out as TOML reads back the same") {
    const auto p = sla_policy::parse("[incident_resolution]\nB_hours = 7.5\n[availability.seres]\ntarget_percent = 99.5\n");
    REQUIRE(p.has_value());
    const auto again = sla_policy::parse(p.value().to_toml());
    REQUIRE(again.has_value());
    CHECK(again.value().to_toml() == p.value().to_toml());
    CHECK(again.value().incident_b == 7h + 30min);
    CHECK(again.value().availability.at("seres").target_percent == 99.5);
    CHECK(sla_policy{}.to_toml() != p.value().to_toml());
    const auto defaults = sla_policy::parse(sla_policy{}.to_toml());
    REQUIRE(defaults.has_value());
    CHECK(defaults.value().to_toml() == sla_policy{}.to_toml());
}
