// The read commands of interface.md: status, trail, findings, timeline, digest, export. Each reads a
// data directory (--data, e.g. a replayed one) or a running ledger (--url, --token); tables by
// default, --json for scripts.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/read_handlers.h"
#include "apps/ledger/commands.h"
#include "apps/ledger/http_client.h"
#include "apps/ledger/options.h"
#include "consumers/verify_kafka.h"
#include "events/ed25519.h"
#include "events/ledger_name.h"
#include "events/time.h"
#include "projections/availability.h"
#include "projections/checkpoints.h"
#include "projections/export.h"
#include "projections/obligations.h"
#include "projections/queries.h"
#include "projections/rules.h"
#include "projections/sla_queries.h"
#include "projections/store.h"
#include "projections/times.h"

namespace ledger::app {
namespace {

using nlohmann::json;

struct read_options {
    std::string ledger = "main";
    std::string data;
    std::string url;
    std::string token;
    bool as_json = false;
};

void add_read_flags(CLI::App& cmd, read_options& o) {
    cmd.add_option("--ledger", o.ledger, "Ledger name (for the default --data)")->envname("LEDGER_LEDGER")->capture_default_str();
    cmd.add_option("--data", o.data, "Data directory to read [default: var/ledger/<name>]")->envname("LEDGER_DATA");
    cmd.add_option("--url", o.url, "Read from a running ledger instead, e.g. http://127.0.0.1:8080")
        ->envname("LEDGER_URL");
    cmd.add_option("--token", o.token, "Bearer token for --url (scope read)")->envname("LEDGER_TOKEN");
    cmd.add_flag("--json", o.as_json, "Print JSON for scripts instead of a table");
}

std::string encode_query(const std::string& v) {
    std::string out;
    for (unsigned char c : v) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

/// Runs a read either through HTTP (`target`) or on the data directory (`local`). Prints
/// errors; returns the answer or nullopt with `code` set.
std::optional<json> run_read(const char* cmd, const read_options& o, const std::string& target,
                             const std::function<std::optional<json>(projections::store&)>& local, int& code) {
    if (!o.url.empty() && !o.data.empty()) {
        fmt::print(stderr, "ledger {}: --url ({}) and --data ({}) both given: read a running ledger or a data "
                           "directory, not both (LEDGER_URL and LEDGER_DATA count as given)\n",
                   cmd, o.url, o.data);
        code = exit_usage;
        return std::nullopt;
    }
    if (!o.url.empty() && o.token.empty() && !target.empty()) {
        fmt::print(stderr, "ledger {}: --url needs a token: give --token SECRET or set LEDGER_TOKEN (scope read)\n", cmd);
        code = exit_usage;
        return std::nullopt;
    }
    if (!o.url.empty()) {
        auto answer = http_get(o.url, target, o.token);
        if (!answer) {
            fmt::print(stderr, "ledger {}: {}\n", cmd, answer.error().message);
            code = exit_failure;
            return std::nullopt;
        }
        auto body = json::parse(answer.value().body, nullptr, false);
        if (answer.value().status != 200) {
            fmt::print(stderr, "ledger {}: {} answered {}: {}\n", cmd, o.url, answer.value().status,
                       body.is_object() ? body.value("error", answer.value().body) : answer.value().body);
            code = exit_failure;
            return std::nullopt;
        }
        return body;
    }
    auto name = events::ledger_name::parse(o.ledger);
    if (!name) {
        fmt::print(stderr, "ledger {}: --ledger: {}\n", cmd, name.error().message);
        code = exit_usage;
        return std::nullopt;
    }
    const std::string dir = o.data.empty() ? "var/ledger/" + o.ledger : o.data;
    auto store = projections::store::open(dir, "", false);
    if (!store) {
        fmt::print(stderr, "ledger {}: --data: {}\n", cmd, store.error().message);
        code = exit_failure;
        return std::nullopt;
    }
    auto out = local(*store.value());
    if (!out) code = exit_failure;
    return out;
}

/// Europe/Oslo, where the ledger's people read times.
const projections::calendar& oslo() {
    static const projections::calendar cal;
    return cal;
}

/// An instant (µs) as a table shows it: Oslo time with its offset.
std::string local_time(std::int64_t us) { return oslo().format_local(projections::at_micros(us)); }
/// An API time (RFC 3339) as a table shows it; the text itself if it is not one.
std::string local_time(const json& v) {
    if (!v.is_string()) return "-";
    const auto t = projections::micros_of(v.get<std::string>());
    return t ? local_time(*t) : v.get<std::string>();
}

/// "1 breach", "2 breaches": a count with its noun.
std::string count_of(std::size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

void print_events(const json& events) {
    fmt::print("{:>8} {:>5}  {:<25} {:<22} {:<28} {}\n", "offset", "seq", "occurred_at", "type", "entity", "actor");
    for (const auto& e : events) {
        fmt::print("{:>8} {:>5}  {:<25} {:<22} {:<28} {}\n", e.value("offset", -1),
                   e.contains("seq") ? std::to_string(e["seq"].get<std::uint64_t>()) : "-",
                   e.value("occurred_at", "-"), e.value("type", "(undecodable)"), e.value("entity", "-"),
                   e.value("actor", "-"));
    }
    fmt::print("{}\n", count_of(events.size(), "event", "events"));
}

void print_findings(const json& findings) {
    fmt::print("{:>8}  {:<32} {:<24} {:<12} {}\n", "offset", "finding", "entity", "system", "detail");
    for (const auto& f : findings) {
        fmt::print("{:>8}  {:<32} {:<24} {:<12} {}\n", f.value("offset", -1), f.value("finding", ""),
                   f.value("entity", ""), f.value("system", ""), f.value("detail", ""));
    }
    fmt::print("{}\n", count_of(findings.size(), "finding", "findings"));
}

void print_obligations(const json& items, const char* what) {
    fmt::print("{:<22} {:<28} {:<12} {:<23} {:<23} {:>16}  {}\n", "obligation", "entity", "system",
               "due (Europe/Oslo)", "met_at", "late", "state");
    for (const auto& b : items) {
        std::string state = b.value("state", "");
        if (b.value("warning", false)) state += " (warning)";
        if (b.value("approved_by_default", false)) state += " (approved by default)";
        const auto late = b.value("late_seconds", std::int64_t{0});
        fmt::print("{:<22} {:<28} {:<12} {:<23} {:<23} {:>16}  {}\n", b.value("obligation", ""), b.value("entity", ""),
                   b.value("system", ""), local_time(b["due"]), local_time(b["met_at"]),
                   late > 0 ? events::duration_words(std::chrono::seconds(late)) + " late" : "-", state);
    }
    const std::string_view plural = what;
    fmt::print("{}\n", count_of(items.size(), plural == "breaches" ? "breach" : "obligation", plural));
}

void print_status(const json& s) {
    fmt::print("{}  (system {})\n", s.value("entity", ""), s.value("system", ""));
    fmt::print("  state        {}\n", s.value("state", ""));
    fmt::print("  seq          {}\n", s.value("seq", 0));
    fmt::print("  last_offset  {}\n", s.value("last_offset", -1));
    if (s.contains("last_event")) {
        fmt::print("  last event   {} at {}\n", s["last_event"].value("type", ""), s["last_event"].value("occurred_at", ""));
    }
    if (s.contains("as_of")) fmt::print("  as of        {}\n", s.value("as_of", ""));
    for (const auto& [k, v] : s["fields"].items()) fmt::print("  {:<28} {}\n", k, v.get<std::string>());
    if (s.contains("roles")) {
        for (const auto& g : s["roles"]) {
            fmt::print("  role         {} on {}{}\n", g.value("role", ""), g.value("system", ""),
                       g.contains("revoked_at") ? " (revoked " + g.value("revoked_at", "") + ")" : "");
        }
    }
    if (s.contains("obligations")) {
        for (const auto& ob : s["obligations"]) {
            const auto late = ob.value("late_seconds", std::int64_t{0});
            fmt::print("  obligation   {} due {}: {}{}\n", ob.value("obligation", ""), local_time(ob["due"]),
                       ob.value("state", ""),
                       late > 0 ? " (" + events::duration_words(std::chrono::seconds(late)) + " late)" : std::string());
        }
    }
    const auto& f = s["findings"];
    fmt::print("  findings     {}\n", f.empty() ? "none" : std::to_string(f.size()));
    for (const auto& x : f) fmt::print("    - {} (offset {}): {}\n", x.value("finding", ""), x.value("offset", -1), x.value("detail", ""));
}

/// A time flag: RFC 3339 with offset, or a date (YYYY-MM-DD: the start of that day in Oslo).
std::optional<std::int64_t> parse_time_flag(const char* cmd, const char* flag, const std::string& text, int& code) {
    if (text.empty()) return std::nullopt;
    if (const auto d = events::parse_date(text)) return projections::micros(oslo().at_local(projections::civil_day{*d}));
    auto t = api::parse_query_time(text);
    if (!t) {
        fmt::print(stderr,
                   "ledger {}: {} '{}' is not an RFC 3339 time with offset (e.g. 2026-03-02T14:32:00+01:00) or a date "
                   "(2026-03-02, the start of that day in Europe/Oslo)\n",
                   cmd, flag, text);
        code = exit_usage;
    }
    return t;
}

/// A parsed time flag for a query string: the instant in UTC, as the API reads it.
std::string time_query(std::int64_t us) { return encode_query(projections::iso(us)); }

/// --month YYYY-MM: the month in Oslo into `since` and `until` (exit 2 on a bad month, or with
/// --since/--until too). For due times (`due`) the month is (00:00 on the 1st, 24:00 on its last
/// day]: a deadline "by the end of" a day is 00:00 of the next, and a month's availability is due
/// at its end. Otherwise [00:00 on the 1st, 24:00 on its last day).
bool month_window(const char* cmd, const std::string& month, std::optional<std::int64_t>& since,
                  std::optional<std::int64_t>& until, int& code, bool due = false) {
    if (month.empty()) return true;
    const auto m = events::parse_month(month);
    if (!m || since || until) {
        fmt::print(stderr, "ledger {}: {}\n", cmd,
                   !m ? fmt::format("--month '{}' is not YYYY-MM", month)
                      : std::string("--month is a window of its own: give it or --since/--until, not both"));
        code = exit_usage;
        return false;
    }
    const auto start = projections::micros(oslo().at_local(projections::civil_day{*m / std::chrono::day{1}}));
    const auto end = projections::micros(oslo().at_local(projections::civil_day{(*m + std::chrono::months{1}) / std::chrono::day{1}}));
    since = due ? start + 1 : start;
    until = due ? end : end - 1;
    return true;
}

/// Refuses (exit 2) a name outside `names`, as the API does (a bogus filter is not an empty list).
void check_name(const char* cmd, const char* flag, const std::string& value, const std::vector<std::string_view>& names,
                int& code) {
    if (value.empty() || std::find(names.begin(), names.end(), value) != names.end()) return;
    std::string list;
    for (const auto n : names) list += std::string(list.empty() ? "" : ", ") + std::string(n);
    fmt::print(stderr, "ledger {}: {} '{}' is not one of {}\n", cmd, flag, value, list);
    code = exit_usage;
}

}  // namespace

void add_read_commands(CLI::App& app, int& exit_code) {
    {
        auto o = std::make_shared<read_options>();
        auto entity = std::make_shared<std::string>();
        auto as_of = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand("status", "Show the status of one entity: state, fields, findings.");
        cmd->add_option("ENTITY", *entity, "The entity, <kind>/<id>, e.g. change/CHG-17")->required();
        cmd->add_option("--as-of", *as_of, "World time (RFC 3339): the status from the events that had occurred by then");
        add_read_flags(*cmd, *o);
        cmd->callback([o, entity, as_of, &exit_code] {
            const auto slash = entity->find('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == entity->size()) {
                fmt::print(stderr, "ledger status: ENTITY must be <kind>/<id>, e.g. change/CHG-17; got '{}'\n", *entity);
                exit_code = exit_usage;
                return;
            }
            int code = exit_ok;
            const auto t = parse_time_flag("status", "--as-of", *as_of, code);
            if (code != exit_ok) {
                exit_code = code;
                return;
            }
            std::string target = "/v1/entities/" + *entity;
            if (t) target += "?as_of=" + time_query(*t);
            auto out = run_read("status", *o, target, [&](projections::store& s) -> std::optional<json> {
                auto st = projections::entity_status(s, *entity, t);
                if (!st) fmt::print(stderr, "ledger status: {} is not in the ledger{}\n", *entity, t ? " by then" : "");
                return st;
            }, code);
            if (out) o->as_json ? fmt::print("{}\n", out->dump(2)) : print_status(*out);
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto f = std::make_shared<projections::entity_filter>();
        auto* cmd = app.add_subcommand("entities", "List entities with their state, by entity: the changes of a system, say.");
        cmd->add_option("--kind", f->kind, "Only this kind, e.g. change")
            ->check(CLI::IsMember({"actor", "change", "route", "agreement", "window", "key", "incident", "maintenance",
                                   "service", "report", "request", "access", "calendar"}));
        cmd->add_option("--system", f->system, "Only this system");
        add_read_flags(*cmd, *o);
        cmd->callback([o, f, &exit_code] {
            int code = exit_ok;
            const std::string target =
                "/v1/entities?kind=" + encode_query(f->kind) + "&system=" + encode_query(f->system);
            auto out = run_read("entities", *o, target, [&](projections::store& s) -> std::optional<json> {
                return projections::entities(s, *f);
            }, code);
            if (out && o->as_json) {
                fmt::print("{}\n", out->dump(2));
            } else if (out) {
                const auto& list = (*out)["entities"];
                fmt::print("{:<32} {:<12} {:<18} {:>5}  {}\n", "entity", "system", "state", "seq", "last event");
                for (const auto& e : list) {
                    fmt::print("{:<32} {:<12} {:<18} {:>5}  {} at {}\n", e.value("entity", ""), e.value("system", ""),
                               e.value("state", ""), e.value("seq", 0), e.value("last_type", ""),
                               local_time(e["last_occurred_at"]));
                }
                fmt::print("{}\n", count_of(list.size(), "entity", "entities"));
            }
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto entity = std::make_shared<std::string>();
        auto actor = std::make_shared<std::string>();
        auto as_of = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand("trail", "Show the audit trail of an entity (or --actor), in ledger order.");
        cmd->add_option("ENTITY", *entity, "The entity, <kind>/<id>");
        cmd->add_option("--actor", *actor, "Instead of an entity: everything this actor did");
        cmd->add_option("--as-of", *as_of, "World time (RFC 3339): only the events that had occurred by then");
        add_read_flags(*cmd, *o);
        cmd->callback([o, entity, actor, as_of, &exit_code] {
            if (entity->empty() == actor->empty()) {
                fmt::print(stderr, "ledger trail: give either ENTITY or --actor ID\n");
                exit_code = exit_usage;
                return;
            }
            int code = exit_ok;
            const auto t_as_of = parse_time_flag("trail", "--as-of", *as_of, code);
            if (code != exit_ok) {
                exit_code = code;
                return;
            }
            std::string target = actor->empty() ? "/v1/entities/" + *entity + "/trail" : "/v1/actors/" + *actor + "/trail";
            if (t_as_of) target += "?as_of=" + time_query(*t_as_of);
            auto out = run_read("trail", *o, target, [&](projections::store& s) -> std::optional<json> {
                auto t = actor->empty() ? projections::entity_trail(s, *entity, t_as_of)
                                        : projections::actor_trail(s, *actor, t_as_of);
                if (!actor->empty() || !t["events"].empty()) return t;
                fmt::print(stderr, "ledger trail: {} is not in the ledger\n", *entity);
                return std::nullopt;
            }, code);
            if (out) o->as_json ? fmt::print("{}\n", out->dump(2)) : print_events((*out)["events"]);
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto service = std::make_shared<std::string>();
        auto month = std::make_shared<std::string>();
        auto as_of = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand(
            "availability", "Availability of a service in a month: service and outage minutes, percentage, target.");
        cmd->add_option("service", *service, "Service id, e.g. altinn")->required();
        cmd->add_option("month", *month, "Calendar month, YYYY-MM (Europe/Oslo)")->required();
        cmd->add_option("--as-of", *as_of, "As of this time (world time, RFC 3339) [default: now]");
        add_read_flags(*cmd, *o);
        cmd->footer("Service hours and targets by environment come from the SLA policy (--policy of the projector).");
        cmd->callback([o, service, month, as_of, &exit_code] {
            int code = exit_ok;
            const auto t = parse_time_flag("availability", "--as-of", *as_of, code);
            const auto m = events::parse_month(*month);
            if (!m) {
                fmt::print(stderr, "ledger availability: month '{}' is not YYYY-MM\n", *month);
                code = exit_usage;
            }
            if (code != exit_ok) {
                exit_code = code;
                return;
            }
            std::string target = "/v1/availability?service=" + encode_query(*service) + "&month=" + encode_query(*month);
            if (t) target += "&as_of=" + time_query(*t);
            auto out = run_read("availability", *o, target,
                                [&](projections::store& s) -> std::optional<json> {
                                    auto a = projections::availability(s, *service, *m, t);
                                    if (!a) {
                                        fmt::print(stderr, "ledger availability: service/{} was not registered by the "
                                                           "end of {}{}\n",
                                                   *service, *month, t ? " (or by --as-of)" : "");
                                    }
                                    return a;
                                },
                                code);
            if (out) {
                if (o->as_json) {
                    fmt::print("{}\n", out->dump(2));
                } else {
                    fmt::print("{} {} ({}){}\n", out->value("service", ""), out->value("month", ""),
                               out->value("environment", ""),
                               out->value("month_so_far", false) ? ", month so far, as of " + local_time((*out)["as_of"])
                                                                 : std::string());
                    // Minutes are whole for a month that has ended; for the month so far, to two places.
                    auto minutes = [](const nlohmann::json& v) {
                        const double n = v.get<double>();
                        return n == std::floor(n) ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}", n);
                    };
                    fmt::print("  service minutes  {}\n", minutes((*out)["service_minutes"]));
                    fmt::print("  outage minutes   {}\n", minutes((*out)["outage_minutes"]));
                    fmt::print("  availability     {} %  (target {} %){}\n", (*out)["availability_percent"].dump(),
                               (*out)["target_percent"].dump(), out->value("breached", false) ? "  BREACHED" : "");
                }
            }
            exit_code = code;
        });
    }
    for (const bool all : {false, true}) {
        // `ledger breaches` and `ledger obligations`: the same filters, as of a time.
        auto o = std::make_shared<read_options>();
        auto f = std::make_shared<projections::obligation_filter>();
        auto since = std::make_shared<std::string>();
        auto until = std::make_shared<std::string>();
        auto as_of = std::make_shared<std::string>();
        auto state = std::make_shared<std::string>();
        auto month = std::make_shared<std::string>();
        auto format = std::make_shared<std::string>("table");
        const char* name = all ? "obligations" : "breaches";
        auto* cmd = app.add_subcommand(
            name, all ? "List SLA obligations (open, met, breached, waived) as of a time, by due time."
                      : "List SLA breaches as of a time, by due time: met late, or unmet past the due.");
        cmd->add_option("--system", f->system, "Only this system");
        cmd->add_option("--obligation", f->obligation, "Only this obligation, e.g. incident_resolution");
        cmd->add_option("--since", *since, "Only those due at or after this time");
        cmd->add_option("--until", *until, "Only those due at or before this time");
        cmd->add_option("--as-of", *as_of, "As of this time (world time, RFC 3339, or a date) [default: now]");
        cmd->add_option("--month", *month, "Only those due in this month (YYYY-MM, Europe/Oslo): the monthly report");
        if (all) cmd->add_option("--state", *state, "Only this state: open, met, breached or waived");
        cmd->add_option("--format", *format, all ? "table, json or csv" : "table, json or csv (the monthly report)")
            ->check(CLI::IsMember({"table", "json", "csv"}))
            ->capture_default_str();
        add_read_flags(*cmd, *o);
        cmd->footer("The policy in force (deadlines, opening hours) is part of the --json answer.");
        cmd->callback([o, f, since, until, as_of, state, month, format, name, all, &exit_code] {
            int code = exit_ok;
            f->since_us = parse_time_flag(name, "--since", *since, code);
            f->until_us = parse_time_flag(name, "--until", *until, code);
            f->as_of_us = parse_time_flag(name, "--as-of", *as_of, code);
            month_window(name, *month, f->since_us, f->until_us, code, /*due=*/true);
            check_name(name, "--obligation", f->obligation, projections::obligation_names(), code);
            if (f->since_us && f->until_us && *f->since_us > *f->until_us) {
                fmt::print(stderr, "ledger {}: --since is after --until: the window is empty\n", name);
                code = exit_usage;
            }
            if (!state->empty()) {
                f->state = projections::parse_obligation_state(*state);
                if (!f->state) {
                    fmt::print(stderr, "ledger {}: --state '{}' is not open, met, breached or waived\n", name, *state);
                    code = exit_usage;
                }
            }
            if (code != exit_ok) {
                exit_code = code;
                return;
            }
            std::string target = fmt::format("/v1/{}?system={}&obligation={}", name, encode_query(f->system),
                                              encode_query(f->obligation));
            if (f->since_us) target += "&since=" + time_query(*f->since_us);
            if (f->until_us) target += "&until=" + time_query(*f->until_us);
            if (f->as_of_us) target += "&as_of=" + time_query(*f->as_of_us);
            if (!state->empty()) target += "&state=" + encode_query(*state);
            auto out = run_read(name, *o, target,
                                [&](projections::store& s) -> std::optional<json> {
                                    return all ? projections::obligations(s, *f) : projections::breaches(s, *f);
                                },
                                code);
            if (out) {
                if (o->as_json || *format == "json") {
                    fmt::print("{}\n", out->dump(2));
                } else if (*format == "csv") {
                    std::ostringstream csv;
                    projections::breaches_csv((*out)[name], csv);
                    fmt::print("{}", csv.str());
                } else {
                    print_obligations((*out)[name], name);
                }
            }
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto f = std::make_shared<projections::finding_filter>();
        auto since = std::make_shared<std::string>();
        auto until = std::make_shared<std::string>();
        auto as_of = std::make_shared<std::string>();
        auto month = std::make_shared<std::string>();
        auto format = std::make_shared<std::string>("table");
        auto* cmd = app.add_subcommand("findings", "List compliance findings, in ledger order.");
        cmd->add_option("--format", *format, "table, json or csv")
            ->check(CLI::IsMember({"table", "json", "csv"}))
            ->capture_default_str();
        cmd->add_option("--system", f->system, "Only this system");
        cmd->add_option("--finding", f->finding, "Only this finding, e.g. production_without_test_signoff");
        cmd->add_option("--since", *since, "Only events that occurred at or after this time");
        cmd->add_option("--until", *until, "Only events that occurred at or before this time");
        cmd->add_option("--as-of", *as_of, "World time (RFC 3339): only findings of events that had occurred by then");
        cmd->add_option("--month", *month, "Only events that occurred in this month (YYYY-MM, Europe/Oslo)");
        add_read_flags(*cmd, *o);
        cmd->callback([o, f, since, until, as_of, month, format, &exit_code] {
            int code = exit_ok;
            f->since_us = parse_time_flag("findings", "--since", *since, code);
            f->until_us = parse_time_flag("findings", "--until", *until, code);
            month_window("findings", *month, f->since_us, f->until_us, code);
            f->as_of_us = parse_time_flag("findings", "--as-of", *as_of, code);
            check_name("findings", "--finding", f->finding, projections::finding_names(), code);
            if (f->since_us && f->until_us && *f->since_us > *f->until_us) {
                fmt::print(stderr, "ledger findings: --since is after --until: the window is empty\n");
                code = exit_usage;
            }
            if (code != exit_ok) {
                exit_code = code;
                return;
            }
            std::string target = "/v1/findings?system=" + encode_query(f->system) + "&finding=" + encode_query(f->finding);
            if (f->since_us) target += "&since=" + time_query(*f->since_us);
            if (f->until_us) target += "&until=" + time_query(*f->until_us);
            if (f->as_of_us) target += "&as_of=" + time_query(*f->as_of_us);
            auto out = run_read("findings", *o, target,
                                [&](projections::store& s) -> std::optional<json> { return projections::findings(s, *f); },
                                code);
            if (out && (o->as_json || *format == "json")) {
                fmt::print("{}\n", out->dump(2));
            } else if (out && *format == "csv") {
                std::ostringstream csv;
                projections::findings_csv((*out)["findings"], csv);
                fmt::print("{}", csv.str());
            } else if (out) {
                print_findings((*out)["findings"]);
            }
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto from = std::make_shared<std::string>();
        auto to = std::make_shared<std::string>();
        auto system = std::make_shared<std::string>();
        auto as_of = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand("timeline", "Everything that occurred between two times, across systems, in ledger order.");
        cmd->add_option("--from", *from, "From this world time (RFC 3339)")->required();
        cmd->add_option("--to", *to, "To this world time (RFC 3339), inclusive")->required();
        cmd->add_option("--system", *system, "Only this system");
        cmd->add_option("--as-of", *as_of, "World time (RFC 3339): only what had occurred by then");
        add_read_flags(*cmd, *o);
        cmd->callback([o, from, to, system, as_of, &exit_code] {
            int code = exit_ok;
            const auto f = parse_time_flag("timeline", "--from", *from, code);
            const auto t = parse_time_flag("timeline", "--to", *to, code);
            const auto a = parse_time_flag("timeline", "--as-of", *as_of, code);
            if (code == exit_ok && *f > *t) {
                fmt::print(stderr, "ledger timeline: --from is after --to: the window is empty\n");
                code = exit_usage;
            }
            if (code != exit_ok) {
                exit_code = code;
                return;
            }
            std::string target = "/v1/timeline?from=" + time_query(*f) + "&to=" + time_query(*t);
            if (!system->empty()) target += "&system=" + encode_query(*system);
            if (a) target += "&as_of=" + time_query(*a);
            auto out = run_read("timeline", *o, target, [&](projections::store& s) -> std::optional<json> {
                auto body = projections::timeline(s, *f, a ? std::min(*t, *a) : *t, *system);
                body["to"] = projections::iso(*t);
                return body;
            }, code);
            if (out) o->as_json ? fmt::print("{}\n", out->dump(2)) : print_events((*out)["events"]);
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto head_only = std::make_shared<bool>(false);
        auto* cmd = app.add_subcommand(
            "digest", "Print one SHA-256 over the whole content of the read models, so two rebuilds can be compared.");
        add_read_flags(*cmd, *o);
        cmd->add_flag("--head-only", *head_only, "Only the applied offset, record count and chain hash (fast), as JSON");
        cmd->callback([o, head_only, &exit_code] {
            if (!o->url.empty()) {
                fmt::print(stderr, "ledger digest: reads a data directory (--data), not --url\n");
                exit_code = exit_usage;
                return;
            }
            int code = exit_ok;
            auto out = run_read("digest", *o, "", [&](projections::store& s) -> std::optional<json> {
                const auto h = s.current_head();
                if (*head_only) {
                    return json{{"applied_offset", h.next_offset - 1}, {"records", h.records},
                                {"chain_hash", events::to_hex(h.chain)}};
                }
                return json{{"digest", projections::digest(s)},
                            {"applied_offset", h.next_offset - 1},
                            {"records", h.records},
                            {"chain_hash", events::to_hex(h.chain)}};
            }, code);
            if (out) {
                (o->as_json || *head_only) ? fmt::print("{}\n", out->dump())
                                           : fmt::print("{}\n", (*out)["digest"].get<std::string>());
            }
            exit_code = code;
        });
    }
    {
        auto o = std::make_shared<read_options>();
        auto format = std::make_shared<std::string>("json");
        auto output = std::make_shared<std::string>();
        auto* cmd = app.add_subcommand(
            "export",
            "Export the log with its evidence, checkable with standard tools: every record's exact bytes, its "
            "content and chain hash, and (json) the signed checkpoints with the message each signs.");
        add_read_flags(*cmd, *o);
        cmd->add_option("--format", *format, "json (one document) or csv (a row per record, header first)")
            ->capture_default_str();
        cmd->add_option("--output,-o", *output, "Write to this file instead of standard output");
        cmd->callback([o, format, output, &exit_code] {
            auto f = projections::parse_export_format(*format);
            if (!f) {
                fmt::print(stderr, "ledger export: --format: {}\n", f.error().message);
                exit_code = exit_usage;
                return;
            }
            std::ofstream file;
            if (!output->empty()) {
                file.open(*output, std::ios::binary | std::ios::trunc);
                if (!file) {
                    fmt::print(stderr, "ledger export: --output: cannot write {}\n", *output);
                    exit_code = exit_failure;
                    return;
                }
            }
            std::ostream& out = output->empty() ? std::cout : file;
            if (!o->url.empty()) {
                auto answer = http_get(o->url, "/v1/export?format=" + *format, o->token);
                if (!answer || answer.value().status != 200) {
                    fmt::print(stderr, "ledger export: {}\n",
                               answer ? fmt::format("{} answered {}: {}", o->url, answer.value().status,
                                                    answer.value().body)
                                      : answer.error().message);
                    exit_code = exit_failure;
                    return;
                }
                out << answer.value().body;
                exit_code = out ? exit_ok : exit_failure;
                return;
            }
            int code = exit_ok;
            auto written = run_read("export", *o, "", [&](projections::store& s) -> std::optional<json> {
                return json(projections::export_log(s, out, f.value()));
            }, code);
            out.flush();
            if (written && !out) {
                fmt::print(stderr, "ledger export: writing failed\n");
                code = exit_failure;
            }
            exit_code = code;
        });
    }
}

void add_key_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<read_options>();
    auto* cmd = app.add_subcommand(
        "key", "Print the public key a data directory signs checkpoints with (base64 Ed25519), for --key FILE.");
    add_read_flags(*cmd, *o);
    cmd->callback([o, &exit_code] {
        int code = exit_ok;
        if (!o->url.empty()) {
            fmt::print(stderr, "ledger key: reads a data directory (--data), not --url\n");
            exit_code = exit_usage;
            return;
        }
        auto out = run_read("key", *o, "", [&](projections::store& s) -> std::optional<json> {
            if (s.public_key().empty()) {
                fmt::print(stderr, "ledger key: {} has no readable ledger.key\n", s.dir().string());
                return std::nullopt;
            }
            return json{{"public_key", events::base64_encode(s.public_key())}, {"signs", s.signs()},
                        {"ledger", s.topic()}};
        }, code);
        if (out) {
            o->as_json ? fmt::print("{}\n", out->dump()) : fmt::print("{}\n", (*out)["public_key"].get<std::string>());
        }
        exit_code = code;
    });
}

void add_verify_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<read_options>();
    auto brokers = std::make_shared<std::string>("127.0.0.1:9092");
    auto* cmd = app.add_subcommand(
        "verify",
        "Recompute the hash chain from Kafka and check it against the read models and the signed checkpoints; "
        "rebuild the views and compare. Exit 1 when there are problems, naming the first bad offset.");
    auto key_file = std::make_shared<std::string>();
    cmd->add_option("--brokers", *brokers, "Kafka bootstrap servers")->envname("LEDGER_BROKERS")->capture_default_str();
    cmd->add_option("--key", *key_file,
                    "The ledger's public key (a file; what `ledger key` prints on the signing node): every checkpoint "
                    "must be signed by it [default: the data directory's own key if it signs, else the first one "
                    "published, trusted on first use]");
    auto tokens_file = std::make_shared<std::string>();
    cmd->add_option("--tokens", *tokens_file,
                    "The gateway's tokens file: each record's producer must name one of its tokens (a record that "
                    "names none was written around the gateway) [default: not checked; a running ledger (--url) "
                    "checks against its own]");
    add_read_flags(*cmd, *o);
    cmd->footer("Checks the checkpoints as published on ledger.<name>.checkpoints as well as the copies in the read "
                "models, against one pinned key; says when none was checked.");
    cmd->callback([o, brokers, key_file, tokens_file, &exit_code] {
        int code = exit_ok;
        consumers::verify_options vo;
        if (!tokens_file->empty()) {
            if (!o->url.empty()) {
                fmt::print(stderr, "ledger verify: --tokens checks a data directory (--data); a running ledger (--url) "
                                   "checks against its own tokens\n");
                exit_code = exit_usage;
                return;
            }
            auto t = api::token_store::load(*tokens_file);
            if (!t) {
                fmt::print(stderr, "ledger verify: --tokens: {}\n", t.error().message);
                exit_code = exit_usage;
                return;
            }
            vo.producers = t.value().names();
            vo.producers_source = *tokens_file;
        }
        if (!key_file->empty()) {
            if (!o->url.empty()) {
                fmt::print(stderr, "ledger verify: --key checks a data directory (--data); a running ledger (--url) "
                                   "verifies against its own\n");
                exit_code = exit_usage;
                return;
            }
            auto k = projections::load_public_key(*key_file, "key");
            if (!k) {
                fmt::print(stderr, "ledger verify: --key: {}\n", k.error().message);
                exit_code = exit_usage;
                return;
            }
            vo.key = std::move(k).value();
            vo.key_source = "--key " + *key_file;
        }
        auto out = run_read("verify", *o, "/v1/verify", [&](projections::store& s) -> std::optional<json> {
            consumers::reader_options ro;
            ro.brokers = *brokers;
            const bool show = !o->as_json;
            if (show) fmt::print(stderr, "verify: topic {} on {}, data {}\n", s.topic(), *brokers, s.dir().string());
            auto report = consumers::verify_from_kafka(s, ro, [show](std::int64_t next, std::int64_t end) {
                if (show) fmt::print(stderr, "\rverify: {} / {} records", next, end);
            }, vo);
            if (show) fmt::print(stderr, "\n");
            if (!report) {
                fmt::print(stderr, "ledger verify: {}\n", report.error().message);
                return std::nullopt;
            }
            return report.value().to_json();
        }, code);
        if (!out) {
            exit_code = code == exit_ok ? exit_failure : code;
            return;
        }
        const auto& problems = (*out)["problems"];
        if (o->as_json) {
            fmt::print("{}\n", out->dump(2));
        } else {
            fmt::print("verified through offset {}; chain {}; {} checkpoint(s) checked\n",
                       (*out)["verified_through_offset"].get<std::int64_t>(), (*out)["chain_hash"].get<std::string>(),
                       (*out)["checkpoints_checked"].get<std::size_t>());
            if (!out->value("key", std::string()).empty()) {
                fmt::print("checkpoints checked against key {} ({})\n", out->value("key", ""), out->value("key_source", ""));
            }
            if (const auto against = out->find("producers_checked_against"); against != out->end() && against->is_string()) {
                fmt::print("producers checked against {}\n", against->get<std::string>());
            }
            for (const auto& w : out->value("warnings", json::array())) fmt::print("warning: {}\n", w.get<std::string>());
            if (problems.empty()) fmt::print("clean: no problem found\n");
            for (const auto& p : problems) {
                fmt::print("offset {}: {}\n", p["offset"].get<std::int64_t>(), p["problem"].get<std::string>());
            }
            if (!problems.empty()) fmt::print("first bad offset: {}\n", problems[0]["offset"].get<std::int64_t>());
        }
        exit_code = problems.empty() ? exit_ok : exit_failure;
    });
}

}  // namespace ledger::app
