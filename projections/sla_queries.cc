#include "projections/sla_queries.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "events/time.h"
#include "projections/model.h"

namespace ledger::projections {
namespace {

using nlohmann::json;

std::string iso(std::int64_t us) { return events::format_utc(events::timestamp(std::chrono::microseconds(us))); }

bool due_in_window(const obligation_filter& f, std::int64_t due) {
    if (f.since_us && due < *f.since_us) return false;
    if (f.until_us && due > *f.until_us) return false;
    return true;
}

bool selected(const obligation_filter& f, const obligation_row& o, const obligation_view& v) {
    if (!f.system.empty() && o.system != f.system) return false;
    if (!f.obligation.empty() && o.obligation != f.obligation) return false;
    return due_in_window(f, v.due_us);
}

/// The monthly calendar obligations from the month of the ledger's first event to the month of
/// `t_us` (local months), each met by the first report of its kind for that period.
std::vector<obligation_row> calendar_obligations(store& s, MDB_txn* txn, const calendar& cal, std::int64_t t_us) {
    std::vector<obligation_row> out;
    MDB_val k{14, const_cast<char*>("first_event_us")}, v{};
    if (mdb_get(txn, s.meta.handle, &k, &v) != MDB_SUCCESS) return out;
    const auto first_us = read_time_key(std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
    if (first_us > t_us) return out;
    auto month_of = [&](std::int64_t us) {
        const std::chrono::year_month_day d{cal.local_date(events::timestamp(std::chrono::microseconds(us)))};
        return d.year() / d.month();
    };
    const auto last = month_of(t_us);
    for (auto m = month_of(first_us); m <= last; m += std::chrono::months{1}) {
        for (const char* kind : {"uptime", "status"}) {
            const std::string period = fmt::format("{:04}-{:02}", static_cast<int>(m.year()), static_cast<unsigned>(m.month()));
            std::optional<report_fact> met;
            const std::string key = std::string(kind) + '\0' + period;
            MDB_val rk{key.size(), const_cast<char*>(key.data())}, rv{};
            if (mdb_get(txn, s.reports.handle, &rk, &rv) == MDB_SUCCESS) {
                met = decode<report_fact>(std::string_view(static_cast<const char*>(rv.mv_data), rv.mv_size));
            }
            auto o = calendar_obligation(std::string(kind) + "_report", m, met, s.policy(), cal);
            out.push_back(std::move(o));
        }
    }
    return out;
}

json listing(store& s, const obligation_filter& f, const char* name, std::int64_t t, json items) {
    std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
        return std::tie(a["due"].get_ref<const std::string&>(), a["entity"].get_ref<const std::string&>(),
                        a["obligation"].get_ref<const std::string&>()) <
               std::tie(b["due"].get_ref<const std::string&>(), b["entity"].get_ref<const std::string&>(),
                        b["obligation"].get_ref<const std::string&>());
    });
    json out{{"as_of", iso(t)}, {name, std::move(items)}, {"policy", s.policy().to_json()}};
    if (f.since_us) out["since"] = iso(*f.since_us);
    if (f.until_us) out["until"] = iso(*f.until_us);
    return out;
}

}  // namespace

std::int64_t now_us() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now())
        .time_since_epoch()
        .count();
}

json obligation_json(const obligation_row& o, const obligation_view& v) {
    json out{{"obligation", o.obligation},
             {"entity", o.entity},
             {"system", o.system},
             {"due", iso(v.due_us)},
             {"met_at", v.met_us ? json(iso(*v.met_us)) : json(nullptr)},
             {"late_seconds", v.late_seconds},
             {"state", to_string(v.state)},
             {"started_at", iso(o.started_us)}};
    if (o.start_offset >= 0) out["offset"] = o.start_offset;
    if (o.met_offset >= 0 && v.met_us && !v.approved_by_default) out["met_offset"] = o.met_offset;
    if (o.obligation == "key_rotation") out["warning"] = v.warning;
    if (v.approved_by_default) out["approved_by_default"] = true;
    if (o.obligation == "uptime_report" || o.obligation == "status_report") {
        const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(
            events::timestamp(std::chrono::microseconds(o.started_us)) + std::chrono::hours(12))};
        out["period"] = fmt::format("{:04}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()));
    }
    return out;
}

json breaches(store& s, const obligation_filter& f) {
    const std::int64_t t = f.as_of_us.value_or(now_us());
    store::reader r(s);
    json items = json::array();
    const auto end = time_key(t);
    cursor c(r.get(), s.deadlines);
    for (bool ok = c.first(); ok && c.key().substr(0, 8) < std::string_view(end); ok = c.next()) {
        const auto key = c.key().substr(8);
        auto v = r.txn().get(s.obligations, key);
        if (!v) continue;
        const auto o = decode<obligation_row>(*v);
        const auto view = obligation_at(o, t);
        if (!view || view->state != obligation_state::breached || !selected(f, o, *view)) continue;
        items.push_back(obligation_json(o, *view));
    }
    const auto cal = s.make_calendar(r.get());
    for (const auto& o : calendar_obligations(s, r.get(), cal, t)) {
        const auto view = obligation_at(o, t);
        if (!view || view->state != obligation_state::breached || !selected(f, o, *view)) continue;
        items.push_back(obligation_json(o, *view));
    }
    return listing(s, f, "breaches", t, std::move(items));
}

json obligations(store& s, const obligation_filter& f) {
    const std::int64_t t = f.as_of_us.value_or(now_us());
    store::reader r(s);
    json items = json::array();
    auto add = [&](const obligation_row& o) {
        const auto view = obligation_at(o, t);
        if (!view || (f.state && view->state != *f.state) || !selected(f, o, *view)) return;
        items.push_back(obligation_json(o, *view));
    };
    cursor c(r.get(), s.obligations);
    for (bool ok = c.first(); ok; ok = c.next()) add(decode<obligation_row>(c.value()));
    const auto cal = s.make_calendar(r.get());
    for (const auto& o : calendar_obligations(s, r.get(), cal, t)) add(o);
    return listing(s, f, "obligations", t, std::move(items));
}

json entity_obligations(store& s, MDB_txn* txn, const std::string& entity, std::int64_t as_of_us) {
    json out = json::array();
    const auto prefix = obligation_prefix(entity);
    cursor c(txn, s.obligations);
    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        const auto o = decode<obligation_row>(c.value());
        if (const auto view = obligation_at(o, as_of_us)) out.push_back(obligation_json(o, *view));
    }
    return out;
}

void breaches_csv(const json& breaches, std::ostream& out) {
    auto field = [](const std::string& v) {
        if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
        std::string q = "\"";
        for (char ch : v) {
            if (ch == '"') q += '"';
            q += ch;
        }
        return q + "\"";
    };
    out << "obligation,entity,system,due,met_at,late_seconds,state\r\n";
    for (const auto& b : breaches) {
        out << field(b.value("obligation", "")) << ',' << field(b.value("entity", "")) << ','
            << field(b.value("system", "")) << ',' << field(b.value("due", "")) << ','
            << (b["met_at"].is_string() ? field(b["met_at"].get<std::string>()) : std::string()) << ','
            << b.value("late_seconds", std::int64_t{0}) << ',' << field(b.value("state", "")) << "\r\n";
    }
}

}  // namespace ledger::projections
