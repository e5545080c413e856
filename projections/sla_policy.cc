#include "projections/sla_policy.h"

#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace ledger::projections {
namespace {

enum class errc { bad_policy = 1 };

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.policy"; }
    std::string message(int) const override { return "bad SLA policy"; }
};
const std::error_category& policy_category() {
    static const category c;
    return c;
}

error bad(std::string field, std::string message) {
    return error{std::error_code(static_cast<int>(errc::bad_policy), policy_category()), std::move(message),
                 std::move(field)};
}

std::string hhmm(std::chrono::minutes m) { return fmt::format("{:02}:{:02}", m.count() / 60, m.count() % 60); }
std::string mmdd(std::chrono::month_day md) {
    return fmt::format("{:02}-{:02}", static_cast<unsigned>(md.month()), static_cast<unsigned>(md.day()));
}

std::string_view days_name(service_hours::days_kind k) {
    switch (k) {
        case service_hours::days_kind::every_day: return "every_day";
        case service_hours::days_kind::monday_to_friday: return "monday_to_friday";
        case service_hours::days_kind::working_days: return "working_days";
    }
    return "every_day";
}

/// Reads one table of the file, refusing keys it does not know.
class section {
public:
    section(const toml::table& t, std::string name) : _t(t), _name(std::move(name)) {}

    [[nodiscard]] std::optional<error> unknown_keys(std::initializer_list<std::string_view> known) const {
        for (const auto& [key, value] : _t) {
            if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
                std::string list;
                for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
                return bad(field(key.str()), fmt::format("{} is not a policy setting; [{}] has {}.", field(key.str()),
                                                         _name, list));
            }
        }
        return std::nullopt;
    }

    /// A number > 0 (integers and decimals alike), kept as seconds of `unit`.
    template <typename Unit>
    std::optional<error> duration(std::string_view key, std::chrono::seconds& out) const {
        const auto* node = _t.get(key);
        if (node == nullptr) return std::nullopt;
        const auto v = node->value<double>();
        if (!v || !std::isfinite(*v) || *v <= 0) {
            return bad(field(key), fmt::format("{} must be a number above 0.", field(key)));
        }
        out = std::chrono::seconds{std::llround(*v * static_cast<double>(std::chrono::seconds(Unit{1}).count()))};
        return std::nullopt;
    }

    std::optional<error> count(std::string_view key, int& out, int max) const {
        const auto* node = _t.get(key);
        if (node == nullptr) return std::nullopt;
        const auto v = node->value<std::int64_t>();
        if (!v || !node->is_integer() || *v < 1 || *v > max) {
            return bad(field(key), fmt::format("{} must be a whole number from 1 to {}.", field(key), max));
        }
        out = static_cast<int>(*v);
        return std::nullopt;
    }

    /// "HH:MM", 00:00 to 24:00.
    std::optional<error> clock(std::string_view key, std::chrono::minutes& out) const {
        const auto* node = _t.get(key);
        if (node == nullptr) return std::nullopt;
        const auto v = node->value<std::string>();
        unsigned h = 0, m = 0;
        char colon = 0;
        std::istringstream in(v.value_or(""));
        if (!v || v->size() != 5 || !(in >> h >> colon >> m) || colon != ':' || m > 59 || h > 24 || (h == 24 && m != 0)) {
            return bad(field(key), fmt::format("{} must be a time of day \"HH:MM\" (00:00 to 24:00).", field(key)));
        }
        out = std::chrono::minutes{h * 60 + m};
        return std::nullopt;
    }

    /// "MM-DD", a real day of the year.
    std::optional<error> month_day(std::string_view key, std::chrono::month_day& out) const {
        const auto* node = _t.get(key);
        if (node == nullptr) return std::nullopt;
        const auto v = node->value<std::string>();
        unsigned mo = 0, d = 0;
        char dash = 0;
        std::istringstream in(v.value_or(""));
        std::chrono::month_day md{};
        if (v && v->size() == 5 && (in >> mo >> dash >> d) && dash == '-') {
            md = std::chrono::month{mo} / std::chrono::day{d};
        }
        if (!md.ok()) return bad(field(key), fmt::format("{} must be a day of the year \"MM-DD\".", field(key)));
        out = md;
        return std::nullopt;
    }

    std::optional<error> percent(std::string_view key, double& out) const {
        const auto* node = _t.get(key);
        if (node == nullptr) return std::nullopt;
        const auto v = node->value<double>();
        if (!v || !(*v > 0 && *v <= 100)) {
            return bad(field(key), fmt::format("{} must be a percentage above 0 and at most 100.", field(key)));
        }
        out = *v;
        return std::nullopt;
    }

    std::optional<error> days(std::string_view key, service_hours::days_kind& out) const {
        const auto* node = _t.get(key);
        if (node == nullptr) return std::nullopt;
        const auto v = node->value<std::string>().value_or("");
        for (auto k : {service_hours::days_kind::every_day, service_hours::days_kind::monday_to_friday,
                       service_hours::days_kind::working_days}) {
            if (v == days_name(k)) {
                out = k;
                return std::nullopt;
            }
        }
        return bad(field(key), fmt::format("{} must be every_day, monday_to_friday or working_days.", field(key)));
    }

    [[nodiscard]] std::string field(std::string_view key) const { return fmt::format("{}.{}", _name, key); }

private:
    const toml::table& _t;
    std::string _name;
};

#define LEDGER_POLICY_TRY(expr)                 \
    do {                                        \
        if (auto _e = (expr)) return *std::move(_e); \
    } while (0)

using hours_unit = std::chrono::hours;
using days_unit = std::chrono::days;

}  // namespace

result<sla_policy> sla_policy::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return bad("policy", fmt::format("Cannot read the policy file {}.", file.string()));
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), file.string());
}

result<sla_policy> sla_policy::parse(std::string_view toml_text, const std::string& source) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        return bad("policy", fmt::format("Cannot read the policy {}: {} (line {}).", source, e.description(),
                                         e.source().begin.line));
    }
    sla_policy p;
    static const std::set<std::string_view> tables{
        "opening_hours",   "incident_resolution", "incident_feedback", "maintenance_notice",
        "request_feedback", "request_qualification", "request_analysis", "report_approval",
        "uptime_report",   "status_report",       "key_rotation",      "access_review",
        "availability"};
    for (const auto& [key, value] : doc) {
        if (!tables.contains(key.str()) || !value.is_table()) {
            return bad(std::string(key.str()),
                       fmt::format("[{}] is not a table of the SLA policy; the tables are opening_hours, "
                                   "incident_resolution, incident_feedback, maintenance_notice, request_feedback, "
                                   "request_qualification, request_analysis, report_approval, uptime_report, "
                                   "status_report, key_rotation, access_review and availability.<environment>.",
                                   key.str()));
        }
    }
    auto table = [&](std::string_view name) -> const toml::table* { return doc[name].as_table(); };
    static const toml::table empty;
    auto sec = [&](std::string_view name) { return section(table(name) ? *table(name) : empty, std::string(name)); };

    {
        auto s = sec("opening_hours");
        LEDGER_POLICY_TRY(s.unknown_keys({"opens", "closes", "summer_closes", "summer_from", "summer_to"}));
        LEDGER_POLICY_TRY(s.clock("opens", p.hours.opens));
        LEDGER_POLICY_TRY(s.clock("closes", p.hours.closes));
        LEDGER_POLICY_TRY(s.clock("summer_closes", p.hours.summer_closes));
        LEDGER_POLICY_TRY(s.month_day("summer_from", p.hours.summer_from));
        LEDGER_POLICY_TRY(s.month_day("summer_to", p.hours.summer_to));
        if (p.hours.closes <= p.hours.opens || p.hours.summer_closes <= p.hours.opens) {
            return bad("opening_hours.closes", "opening_hours.closes and summer_closes must be after opens.");
        }
    }
    {
        auto s = sec("incident_resolution");
        LEDGER_POLICY_TRY(s.unknown_keys({"A_hours", "B_hours", "C_working_days"}));
        LEDGER_POLICY_TRY(s.duration<hours_unit>("A_hours", p.incident_a));
        LEDGER_POLICY_TRY(s.duration<hours_unit>("B_hours", p.incident_b));
        LEDGER_POLICY_TRY(s.count("C_working_days", p.incident_c_working_days, 366));
    }
    {
        auto s = sec("incident_feedback");
        LEDGER_POLICY_TRY(s.unknown_keys({"hours"}));
        LEDGER_POLICY_TRY(s.duration<hours_unit>("hours", p.incident_feedback));
    }
    {
        auto s = sec("maintenance_notice");
        LEDGER_POLICY_TRY(s.unknown_keys({"working_days", "seres_working_days"}));
        LEDGER_POLICY_TRY(s.count("working_days", p.maintenance_notice_working_days, 366));
        LEDGER_POLICY_TRY(s.count("seres_working_days", p.maintenance_notice_working_days_seres, 366));
    }
    for (auto [name, slot] : {std::pair{"request_feedback", &p.request_feedback_working_days},
                              std::pair{"request_qualification", &p.request_qualification_working_days},
                              std::pair{"request_analysis", &p.request_analysis_working_days}}) {
        auto s = sec(name);
        LEDGER_POLICY_TRY(s.unknown_keys({"working_days"}));
        LEDGER_POLICY_TRY(s.count("working_days", *slot, 366));
    }
    {
        auto s = sec("report_approval");
        LEDGER_POLICY_TRY(s.unknown_keys({"days"}));
        LEDGER_POLICY_TRY(s.duration<days_unit>("days", p.report_approval));
    }
    for (auto [name, slot] : {std::pair{"uptime_report", &p.uptime_report_day},
                              std::pair{"status_report", &p.status_report_day}}) {
        auto s = sec(name);
        LEDGER_POLICY_TRY(s.unknown_keys({"day_of_following_month"}));
        int day = static_cast<int>(*slot);
        LEDGER_POLICY_TRY(s.count("day_of_following_month", day, 28));
        *slot = static_cast<unsigned>(day);
    }
    {
        auto s = sec("key_rotation");
        LEDGER_POLICY_TRY(s.unknown_keys({"warning_days"}));
        LEDGER_POLICY_TRY(s.duration<days_unit>("warning_days", p.key_rotation_warning));
    }
    {
        auto s = sec("access_review");
        LEDGER_POLICY_TRY(s.unknown_keys({"days"}));
        LEDGER_POLICY_TRY(s.duration<days_unit>("days", p.access_review));
    }
    if (const auto* avail = table("availability")) {
        for (const auto& [env, node] : *avail) {
            const std::string name = "availability." + std::string(env.str());
            if (!p.availability.contains(std::string(env.str())) || !node.is_table()) {
                return bad(name, fmt::format("[{}] is not a service environment; they are production, "
                                             "development, test and seres.",
                                             name));
            }
            auto& hours = p.availability[std::string(env.str())];
            section s(*node.as_table(), name);
            LEDGER_POLICY_TRY(s.unknown_keys({"days", "from", "to", "target_percent"}));
            LEDGER_POLICY_TRY(s.days("days", hours.days));
            LEDGER_POLICY_TRY(s.clock("from", hours.from));
            LEDGER_POLICY_TRY(s.clock("to", hours.to));
            LEDGER_POLICY_TRY(s.percent("target_percent", hours.target_percent));
            if (hours.to <= hours.from) return bad(name + ".to", fmt::format("{}.to must be after from.", name));
        }
    }
    return p;
}

nlohmann::json sla_policy::to_json() const {
    auto hours_of = [](std::chrono::seconds s) { return static_cast<double>(s.count()) / 3600.0; };
    auto days_of = [](std::chrono::seconds s) { return static_cast<double>(s.count()) / 86400.0; };
    nlohmann::json avail = nlohmann::json::object();
    for (const auto& [env, h] : availability) {
        avail[env] = {{"days", days_name(h.days)}, {"from", hhmm(h.from)}, {"to", hhmm(h.to)},
                      {"target_percent", h.target_percent}};
    }
    return {
        {"timezone", "Europe/Oslo"},
        {"opening_hours",
         {{"opens", hhmm(hours.opens)}, {"closes", hhmm(hours.closes)}, {"summer_closes", hhmm(hours.summer_closes)},
          {"summer_from", mmdd(hours.summer_from)}, {"summer_to", mmdd(hours.summer_to)}}},
        {"incident_resolution",
         {{"A_hours", hours_of(incident_a)}, {"B_hours", hours_of(incident_b)}, {"C_working_days", incident_c_working_days}}},
        {"incident_feedback", {{"hours", hours_of(incident_feedback)}}},
        {"maintenance_notice",
         {{"working_days", maintenance_notice_working_days}, {"seres_working_days", maintenance_notice_working_days_seres}}},
        {"request_feedback", {{"working_days", request_feedback_working_days}}},
        {"request_qualification", {{"working_days", request_qualification_working_days}}},
        {"request_analysis", {{"working_days", request_analysis_working_days}}},
        {"report_approval", {{"days", days_of(report_approval)}}},
        {"uptime_report", {{"day_of_following_month", uptime_report_day}}},
        {"status_report", {{"day_of_following_month", status_report_day}}},
        {"key_rotation", {{"warning_days", days_of(key_rotation_warning)}}},
        {"access_review", {{"days", days_of(access_review)}}},
        {"availability", avail},
    };
}

std::string sla_policy::to_toml() const {
    auto scalar = [](const nlohmann::json& v) {
        if (v.is_string()) return fmt::format("\"{}\"", v.get<std::string>());
        if (v.is_number_float()) {
            const double d = v.get<double>();
            if (d == std::floor(d) && std::abs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
            return fmt::format("{}", d);
        }
        return v.dump();
    };
    std::string out;
    const auto j = to_json();
    for (const auto& [table, values] : j.items()) {
        if (!values.is_object()) continue;  // the time zone is not a setting
        if (table == "availability") {
            for (const auto& [env, setting] : values.items()) {
                out += fmt::format("[availability.{}]\n", env);
                for (const auto& [k, v] : setting.items()) out += fmt::format("{} = {}\n", k, scalar(v));
            }
            continue;
        }
        out += fmt::format("[{}]\n", table);
        for (const auto& [k, v] : values.items()) out += fmt::format("{} = {}\n", k, scalar(v));
    }
    return out;
}

}  // namespace ledger::projections
