#include "projections/sla_queries.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "events/time.h"
#include "projections/availability.h"
#include "projections/csv.h"
#include "projections/model.h"
#include "projections/times.h"

namespace ledger::projections {
namespace {

using nlohmann::json;

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
    const auto first = get(txn, s.meta, "first_event_us");
    if (!first) return out;
    const auto first_us = read_time_key(*first);
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
            if (const auto v = get(txn, s.reports, std::string(kind) + '\0' + period)) met = decode<report_fact>(*v);
            auto o = calendar_obligation(std::string(kind) + "_report", m, met, s.policy(), cal);
            out.push_back(std::move(o));
        }
    }
    return out;
}

struct entry {
    obligation_row row;
    obligation_view view;
};

/// Availability (domain.md 3.4) as an obligation per service and month, from the month of its
/// registration to the month of `t_us`, so the monthly report has one list: breached when the
/// month's availability (so far) is below its target, late by the outage beyond what the target
/// allows; met once a month ended above it; open while it runs above it.
std::vector<entry> availability_obligations(store& s, MDB_txn* txn, const calendar& cal, std::int64_t t_us) {
    std::vector<entry> out;
    auto month_of = [&](std::int64_t us) {
        const std::chrono::year_month_day d{cal.local_date(events::timestamp(std::chrono::microseconds(us)))};
        return d.year() / d.month();
    };
    const std::string prefix = "service/";
    cursor c(txn, s.entities);
    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        const std::string entity(c.key());
        const auto first = registration_at(s, txn, entity, t_us);
        if (!first) continue;
        for (auto m = month_of(first->first_us); m <= month_of(t_us); m += std::chrono::months{1}) {
            const auto month = availability_of(s, txn, cal, entity, m, t_us);
            if (!month) continue;
            entry e;
            e.row.obligation = "availability";
            e.row.entity = entity;
            e.row.system = month->registration.system;
            e.row.started_us = month->month_start_us;
            e.row.dues.emplace_back(month->month_start_us, month->month_end_us);
            e.view.due_us = month->month_end_us;
            const auto& f = month->figures;
            if (f.breached) {
                e.view.state = obligation_state::breached;
                const double allowed = static_cast<double>(f.service_seconds) * (100.0 - month->target) / 100.0;
                e.view.late_seconds = std::max<std::int64_t>(
                    0, f.outage_seconds - static_cast<std::int64_t>(std::floor(allowed)));
            } else if (month->until_us >= month->month_end_us) {
                e.view.state = obligation_state::met;
                e.view.met_us = month->month_end_us;
            }
            out.push_back(std::move(e));
        }
    }
    return out;
}

void append_string(std::string& out, std::string_view v) {
    // Ids are validated identifiers, but may still hold a quote or a backslash: nlohmann escapes.
    if (v.find_first_of("\"\\") == std::string_view::npos && std::all_of(v.begin(), v.end(), [](char ch) {
            return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
        })) {
        out.push_back('"');
        out.append(v);
        out.push_back('"');
    } else {
        out += json(std::string(v)).dump();
    }
}

/// The answer as JSON text, as nlohmann would print the document (keys in order), without
/// building a document per obligation: a list of 100,000 breaches is answered in a fraction of
/// the time, and of the memory.
std::string listing(store& s, const obligation_filter& f, const char* name, std::int64_t t, std::vector<entry> items) {
    // By due time, then entity and obligation: sorted as values.
    std::sort(items.begin(), items.end(), [](const entry& a, const entry& b) {
        return std::tie(a.view.due_us, a.row.entity, a.row.obligation) <
               std::tie(b.view.due_us, b.row.entity, b.row.obligation);
    });
    std::string out;
    out.reserve(64 + items.size() * 260);
    out += "{\"as_of\":";
    append_string(out, iso(t));
    out += ",\"";
    out += name;
    out += "\":[";
    bool first = true;
    for (const auto& e : items) {
        if (!first) out.push_back(',');
        first = false;
        append_obligation(out, e.row, e.view);
    }
    out += "],\"policy\":";
    out += s.policy().to_json().dump();
    if (f.since_us) out += ",\"since\":\"" + iso(*f.since_us) + "\"";
    if (f.until_us) out += ",\"until\":\"" + iso(*f.until_us) + "\"";
    out.push_back('}');
    return out;
}

}  // namespace

std::string period_of(const obligation_row& o) {
    // A calendar obligation starts at local midnight on the 1st: noon UTC that day is in the month.
    const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(
        events::timestamp(std::chrono::microseconds(o.started_us)) + std::chrono::hours(12))};
    return fmt::format("{:04}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()));
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
    if (o.obligation == "uptime_report" || o.obligation == "status_report" || o.obligation == "availability") {
        out["period"] = period_of(o);
    }
    return out;
}

void append_obligation(std::string& out, const obligation_row& o, const obligation_view& v) {
    // Keys in nlohmann's order (sorted), the same fields as obligation_json.
    const bool calendar_kind =
        o.obligation == "uptime_report" || o.obligation == "status_report" || o.obligation == "availability";
    if (v.approved_by_default) out += "{\"approved_by_default\":true,\"due\":\"";
    else out += "{\"due\":\"";
    out += iso(v.due_us);
    out += "\",\"entity\":";
    append_string(out, o.entity);
    out += ",\"late_seconds\":";
    out += std::to_string(v.late_seconds);
    out += ",\"met_at\":";
    if (v.met_us) {
        out += '"' + iso(*v.met_us) + '"';
    } else {
        out += "null";
    }
    if (o.met_offset >= 0 && v.met_us && !v.approved_by_default) out += ",\"met_offset\":" + std::to_string(o.met_offset);
    out += ",\"obligation\":";
    append_string(out, o.obligation);
    if (o.start_offset >= 0) out += ",\"offset\":" + std::to_string(o.start_offset);
    if (calendar_kind) out += ",\"period\":\"" + period_of(o) + '"';
    out += ",\"started_at\":\"" + iso(o.started_us) + "\",\"state\":\"";
    out += to_string(v.state);
    out += "\",\"system\":";
    append_string(out, o.system);
    if (o.obligation == "key_rotation") out += v.warning ? ",\"warning\":true" : ",\"warning\":false";
    out.push_back('}');
}

namespace {

/// The obligations of `db` (the deadline index up to T for breaches, every obligation otherwise)
/// and the monthly ones, as of T, kept when `want` says so.
std::string answer(store& s, const obligation_filter& f, const char* name, bool deadlines_only,
                   const std::function<bool(obligation_state)>& want) {
    const std::int64_t t = f.as_of_us.value_or(now_us());
    store::reader r(s);
    std::vector<entry> items;
    auto add = [&](obligation_row o) {
        const auto view = obligation_at(o, t);
        if (!view || !want(view->state) || !selected(f, o, *view)) return;
        items.push_back({std::move(o), *view});
    };
    cursor c(r.get(), deadlines_only ? s.deadlines : s.obligations);
    // The deadline index holds a copy of each obligation that can be breached, by its earliest
    // due: what is due before T is one range, read in order.
    const auto end = time_key(t);
    for (bool ok = c.first(); ok && (!deadlines_only || c.key().substr(0, 8) < std::string_view(end)); ok = c.next()) {
        add(decode<obligation_row>(c.value()));
    }
    const auto cal = s.make_calendar(r.get());
    for (auto& o : calendar_obligations(s, r.get(), cal, t)) add(std::move(o));
    if (f.obligation.empty() || f.obligation == "availability") {
        for (auto& e : availability_obligations(s, r.get(), cal, t)) {
            if (want(e.view.state) && selected(f, e.row, e.view)) items.push_back(std::move(e));
        }
    }
    return listing(s, f, name, t, std::move(items));
}

}  // namespace

std::string breaches_text(store& s, const obligation_filter& f) {
    return answer(s, f, "breaches", true, [](obligation_state st) { return st == obligation_state::breached; });
}

std::string obligations_text(store& s, const obligation_filter& f) {
    return answer(s, f, "obligations", false, [&f](obligation_state st) { return !f.state || st == *f.state; });
}

json breaches(store& s, const obligation_filter& f) { return json::parse(breaches_text(s, f)); }
json obligations(store& s, const obligation_filter& f) { return json::parse(obligations_text(s, f)); }

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
    const auto field = csv_field;
    out << "obligation,entity,system,due,met_at,late_seconds,state\r\n";
    for (const auto& b : breaches) {
        out << field(b.value("obligation", "")) << ',' << field(b.value("entity", "")) << ','
            << field(b.value("system", "")) << ',' << field(b.value("due", "")) << ','
            << (b["met_at"].is_string() ? field(b["met_at"].get<std::string>()) : std::string()) << ','
            << b.value("late_seconds", std::int64_t{0}) << ',' << field(b.value("state", "")) << "\r\n";
    }
}

}  // namespace ledger::projections
