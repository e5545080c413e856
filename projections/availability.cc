#include "projections/availability.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "events/event.h"
#include "events/time.h"
#include "projections/model.h"
#include "projections/times.h"

namespace ledger::projections {
namespace {

using std::chrono::days;

constexpr std::int64_t us_per_s = 1'000'000;

/// Sorted, non-overlapping.
std::vector<interval> merged(std::vector<interval> v) {
    std::sort(v.begin(), v.end(), [](const interval& a, const interval& b) { return a.from_us < b.from_us; });
    std::vector<interval> out;
    for (const auto& i : v) {
        if (i.to_us <= i.from_us) continue;
        if (!out.empty() && i.from_us <= out.back().to_us) {
            out.back().to_us = std::max(out.back().to_us, i.to_us);
        } else {
            out.push_back(i);
        }
    }
    return out;
}

/// a minus b (both merged).
std::vector<interval> minus(const std::vector<interval>& a, const std::vector<interval>& b) {
    std::vector<interval> out;
    for (auto i : a) {
        for (const auto& cut : b) {
            if (cut.to_us <= i.from_us || cut.from_us >= i.to_us) continue;
            if (cut.from_us > i.from_us) out.push_back({i.from_us, cut.from_us});
            i.from_us = std::max(i.from_us, cut.to_us);
            if (i.from_us >= i.to_us) break;
        }
        if (i.from_us < i.to_us) out.push_back(i);
    }
    return out;
}

/// The measure of a ∩ b (both merged).
std::int64_t overlap(const std::vector<interval>& a, const std::vector<interval>& b) {
    std::int64_t total = 0;
    std::size_t j = 0;
    for (const auto& i : a) {
        while (j < b.size() && b[j].to_us <= i.from_us) ++j;
        for (std::size_t k = j; k < b.size() && b[k].from_us < i.to_us; ++k) {
            total += std::min(i.to_us, b[k].to_us) - std::max(i.from_us, b[k].from_us);
        }
    }
    return total;
}

bool in_service(const service_hours& h, const calendar& cal, civil_day d) {
    switch (h.days) {
        case service_hours::days_kind::every_day: return true;
        case service_hours::days_kind::monday_to_friday: {
            const std::chrono::weekday wd{d};
            return wd != std::chrono::Saturday && wd != std::chrono::Sunday;
        }
        case service_hours::days_kind::working_days: return cal.is_working_day(d);
    }
    return true;
}

}  // namespace

std::string outage_link(const std::string& service_entity, std::int64_t start_us) {
    return "outage:" + service_entity + '\0' + time_key(start_us);
}
std::string maintenance_link(const std::string& service_entity, const std::string& maintenance_entity) {
    return "maintenance:" + service_entity + '\0' + maintenance_entity;
}

availability_figures compute_availability(const service_hours& hours, double target_percent,
                                          const std::vector<interval>& outages,
                                          const std::vector<interval>& maintenance, const calendar& cal,
                                          std::chrono::year_month month, std::int64_t until_us) {
    const civil_day first{month / std::chrono::day{1}};
    const civil_day after{(month + std::chrono::months{1}) / std::chrono::day{1}};
    // The month's service hours, each day's in elapsed time, cut at `until`.
    std::vector<interval> service;
    for (auto d = first; d < after; d += days{1}) {
        if (!in_service(hours, cal, d)) continue;
        interval i{micros(cal.at_local(d, hours.from)), micros(cal.at_local(d, hours.to))};
        i.to_us = std::min(i.to_us, until_us);
        if (i.from_us < i.to_us) service.push_back(i);
    }
    service = merged(std::move(service));
    std::vector<interval> down = merged(outages);
    for (auto& i : down) i.to_us = std::min(i.to_us, until_us);
    down = minus(merged(std::move(down)), merged(maintenance));

    availability_figures f;
    for (const auto& i : service) f.service_seconds += (i.to_us - i.from_us) / us_per_s;
    f.outage_seconds = overlap(service, down) / us_per_s;
    if (f.service_seconds > 0) {
        const double raw = 100.0 * static_cast<double>(f.service_seconds - f.outage_seconds) /
                           static_cast<double>(f.service_seconds);
        f.percent = std::round(raw * 10000.0) / 10000.0;
        f.breached = raw < target_percent;
    }
    return f;
}

std::optional<service_registration> registration_at(store& s, MDB_txn* txn, const std::string& entity,
                                                    std::int64_t at_us) {
    std::optional<service_registration> out;
    const std::string prefix = entity + '\0';
    cursor c(txn, s.entity_trail);
    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        if (c.key().size() != prefix.size() + 8) continue;
        for_each_entity_offset(c.value(), [&](std::int64_t offset) {
            const auto v = get(txn, s.log, be64(static_cast<std::uint64_t>(offset)));
            if (!v) return;
            const auto row = decode<log_row>(*v);
            if (row.occurred_us > at_us) return;
            const auto rec = events::decode_record_lean(row.bytes);
            if (!rec) return;
            if (const auto* d = std::get_if<events::service_registered>(&rec.value().ev.data)) {
                if (!out) out.emplace().first_us = row.occurred_us;
                out->system = rec.value().ev.env.system;
                out->environment = d->environment;
                out->target = d->target;
            }
        });
    }
    return out;
}

std::optional<service_month> availability_of(store& s, MDB_txn* txn, const calendar& cal, const std::string& entity,
                                             std::chrono::year_month month, std::int64_t as_of_us) {
    const std::int64_t month_start = micros(cal.at_local(civil_day{month / std::chrono::day{1}}));
    const std::int64_t month_end = micros(cal.at_local(civil_day{(month + std::chrono::months{1}) / std::chrono::day{1}}));
    const std::int64_t until = std::min(as_of_us, month_end);
    if (until <= month_start) return std::nullopt;  // the month had not begun by then
    // The registration in force that month: the last one that had occurred by its end (or by the
    // time asked, for the month so far).
    const auto reg = registration_at(s, txn, entity, until - 1);
    if (!reg) return std::nullopt;
    service_month out;
    out.registration = *reg;
    out.month_start_us = month_start;
    out.month_end_us = month_end;
    out.until_us = until;
    const auto& policy = s.policy();
    const auto it = policy.availability.find(reg->environment);
    const service_hours hours = it == policy.availability.end() ? service_hours{} : it->second;
    out.target = reg->target.value_or(hours.target_percent);

    std::vector<interval> outages, maintenance;
    {
        const std::string prefix = "outage:" + entity + '\0';
        cursor c(txn, s.sla_links);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
            const auto from = read_time_key(c.key().substr(prefix.size()));
            const std::int64_t to = c.value().empty() ? until : std::stoll(std::string(c.value()));
            outages.push_back({from, to});
        }
    }
    {
        const std::string prefix = "maintenance:" + entity + '\0';
        cursor c(txn, s.sla_links);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
            std::istringstream in{std::string(c.value())};
            std::int64_t from = 0, to = 0;
            int on_time = 0;
            if (in >> from >> to >> on_time && on_time == 1) maintenance.push_back({from, to});
        }
    }
    out.figures = compute_availability(hours, out.target, outages, maintenance, cal, month, until);
    return out;
}

std::optional<nlohmann::json> availability(store& s, const std::string& service, std::chrono::year_month month,
                                           std::optional<std::int64_t> as_of_us) {
    const std::string entity = service.starts_with("service/") ? service : "service/" + service;
    store::reader r(s);
    const auto cal = s.make_calendar(r.get());
    const auto m = availability_of(s, r.get(), cal, entity, month, as_of_us.value_or(now_us()));
    if (!m) return std::nullopt;
    const auto& f = m->figures;
    auto minutes = [](std::int64_t seconds) {
        return seconds % 60 == 0 ? nlohmann::json(seconds / 60) : nlohmann::json(static_cast<double>(seconds) / 60.0);
    };
    const auto& environment = m->registration.environment;
    return nlohmann::json{
        {"service", entity.substr(8)},
        {"month", fmt::format("{:04}-{:02}", static_cast<int>(month.year()), static_cast<unsigned>(month.month()))},
        {"environment", environment},
        {"service_minutes", minutes(f.service_seconds)},
        {"outage_minutes", minutes(f.outage_seconds)},
        {"availability_percent", f.percent},
        {"target_percent", m->target},
        {"breached", f.breached},
        {"month_so_far", m->until_us < m->month_end_us},
        {"as_of", events::format_utc(events::timestamp(std::chrono::microseconds(m->until_us)))},
        {"service_hours", s.policy().to_json()["availability"].value(environment, nlohmann::json::object())},
    };
}

}  // namespace ledger::projections
