#include "projections/obligations.h"

#include <algorithm>

#include <fmt/format.h>

#include "events/time.h"
#include "projections/availability.h"
#include "projections/model.h"
#include "projections/times.h"

namespace ledger::projections {
namespace {

using namespace events;

}  // namespace

std::string_view to_string(obligation_state s) noexcept {
    switch (s) {
        case obligation_state::open: return "open";
        case obligation_state::met: return "met";
        case obligation_state::breached: return "breached";
        case obligation_state::waived: return "waived";
    }
    return "open";
}

const std::vector<std::string_view>& obligation_names() {
    static const std::vector<std::string_view> names{
        "incident_resolution", "incident_feedback", "maintenance_notice", "request_feedback",
        "request_qualification", "request_analysis", "report_approval",  "uptime_report",
        "status_report",       "key_rotation",      "access_expiry",      "access_review",
        "availability"};
    return names;
}

std::optional<obligation_state> parse_obligation_state(std::string_view s) noexcept {
    for (auto v : {obligation_state::open, obligation_state::met, obligation_state::breached, obligation_state::waived}) {
        if (to_string(v) == s) return v;
    }
    return std::nullopt;
}

std::optional<obligation_view> obligation_at(const obligation_row& o, std::int64_t t_us) {
    if (o.started_us > t_us) return std::nullopt;
    obligation_view v;
    v.due_us = o.due_at(t_us);
    constexpr std::int64_t us_per_s = 1'000'000;
    if (o.waived_us && *o.waived_us <= t_us) {
        v.state = obligation_state::waived;
    } else if (o.met_us && *o.met_us <= t_us && !(o.lapses_to_default && *o.met_us > v.due_us)) {
        v.met_us = o.met_us;
        if (*o.met_us <= v.due_us) {
            v.state = obligation_state::met;
        } else {
            v.state = obligation_state::breached;
            v.late_seconds = (*o.met_us - v.due_us) / us_per_s;
        }
    } else if (o.lapses_to_default && v.due_us <= t_us) {
        // Unanswered at the due: approved by default. Not a breach (domain.md 3.3).
        v.state = obligation_state::met;
        v.met_us = v.due_us;
        v.approved_by_default = true;
    } else if (v.due_us < t_us) {
        v.state = obligation_state::breached;
        v.late_seconds = (t_us - v.due_us) / us_per_s;
    } else {
        v.state = obligation_state::open;
        v.warning = o.warn_before_us > 0 && t_us >= v.due_us - o.warn_before_us;
    }
    return v;
}

obligation_row calendar_obligation(std::string_view obligation, std::chrono::year_month period,
                                   const std::optional<report_fact>& met, const sla_policy& policy,
                                   const calendar& cal) {
    obligation_row o;
    o.obligation = std::string(obligation);
    const unsigned day = obligation == "status_report" ? policy.status_report_day : policy.uptime_report_day;
    // It exists from the start of its month (domain.md: "for every month ... up to T").
    o.started_us = micros(cal.at_local(civil_day{period / std::chrono::day{1}}));
    o.dues.emplace_back(o.started_us, micros(cal.by_day_of_following_month(period, day)));
    o.entity = fmt::format("report/{}-{:04}-{:02}", obligation == "status_report" ? "status" : "uptime",
                           static_cast<int>(period.year()), static_cast<unsigned>(period.month()));
    if (met) {
        o.met_us = met->occurred_us;
        o.met_offset = met->offset;
        o.entity = met->entity;
        o.system = met->system;
    }
    return o;
}

std::string obligation_key(std::string_view entity, std::string_view obligation, std::uint64_t n) {
    std::string key;
    key.reserve(entity.size() + obligation.size() + 10);
    key.append(entity).push_back('\0');
    key.append(obligation);
    if (n > 0) key.push_back('\0'), key += be64(n);
    return key;
}

std::string obligation_prefix(std::string_view entity) {
    std::string key(entity);
    key.push_back('\0');
    return key;
}

std::optional<std::int64_t> sla_engine::incident_due(const std::string& category, std::int64_t reported_us) const {
    const auto reported = at_micros(reported_us);
    if (category == "A") return micros(reported) + micros(_policy.incident_a);
    if (category == "B") return micros(_cal.next_opening(reported)) + micros(_policy.incident_b);
    if (category == "C") return micros(_cal.within_working_days(reported, _policy.incident_c_working_days));
    return std::nullopt;
}

void sla_engine::apply(const recorded_event& rec, std::int64_t offset, const entity_record& entity, sla_state& st) {
    const auto& ev = rec.ev;
    const auto& name = ev.env.entity;
    const std::int64_t at = micros(ev.env.occurred);

    auto start = [&](std::string_view obligation, std::int64_t due, std::uint64_t n = 0) -> obligation_row& {
        obligation_row o;
        o.obligation = std::string(obligation);
        o.entity = name;
        o.system = ev.env.system;
        o.event_id = ev.env.id;
        o.start_offset = offset;
        o.started_us = at;
        o.dues.emplace_back(at, due);
        return st.put_obligation(obligation_key(name, obligation, n), std::move(o));
    };
    // Meets an obligation once: the first meeting event counts.
    auto meet = [&](const std::string& key) {
        if (const auto* found = st.find_obligation(key); found && !found->met_us) {
            auto* o = st.obligation(key);
            o->met_us = at;
            o->met_offset = offset;
        }
    };
    auto review_seq = [&]() -> std::uint64_t {
        const auto v = st.link("review_seq:" + name);
        return v ? std::stoull(*v) : 0;
    };

    std::visit(
        overloaded{
            [&](const incident_reported& d) {
                if (auto due = incident_due(d.category, at)) start("incident_resolution", *due);
            },
            [&](const incident_recategorized& d) {
                // The deadline is recomputed from the original report (domain.md 3.3).
                const auto key = obligation_key(name, "incident_resolution");
                const auto reported = entity.time("reported");
                if (!st.find_obligation(key) || !reported) return;
                const auto due = incident_due(d.category, *reported);
                if (!due) return;
                auto* o = st.obligation(key);
                o->dues.emplace_back(at, *due);
                o->waived_us.reset();
                const auto workaround = st.link("workaround:" + name);
                if (d.category == "C" && workaround && !o->met_us) {
                    const std::int64_t w = std::stoll(*workaround);
                    if (w <= *due) o->waived_us = std::max(w, at);
                }
            },
            [&](const incident_workaround&) {
                st.set_link("workaround:" + name, std::to_string(at));
                const auto key = obligation_key(name, "incident_resolution");
                const auto* o = st.find_obligation(key);
                if (o && !o->met_us && !o->waived_us && entity.field("category") == "C" && at <= o->final_due()) {
                    st.obligation(key)->waived_us = at;
                }
            },
            [&](const incident_resolved&) {
                meet(obligation_key(name, "incident_resolution"));
                const auto category = entity.field("category");
                if (category == "A" || category == "B") start("incident_feedback", at + micros(_policy.incident_feedback));
            },
            [&](const incident_feedback_sent&) { meet(obligation_key(name, "incident_feedback")); },
            [&](const maintenance_announced& d) {
                const auto starts = parse_rfc3339(d.starts_at);
                if (starts.problem != time_problem::none) return;
                int days = _policy.maintenance_notice_working_days;
                if (auto service = st.entity("service/" + d.service); service && service->field("environment") == "seres") {
                    days = _policy.maintenance_notice_working_days_seres;
                }
                // The notice itself meets it: on time, or a breach at once (domain.md 3.3).
                auto& o = start("maintenance_notice", micros(_cal.last_notice_for(starts.at, days)));
                o.met_us = at;
                o.met_offset = offset;
                // For availability: the window, and whether its notice was on time.
                const auto ends = parse_rfc3339(d.ends_at);
                const std::string service = d.service.starts_with("service/") ? d.service : "service/" + d.service;
                st.set_link(maintenance_link(service, name),
                            fmt::format("{} {} {}", micros(starts.at), micros(ends.at), at <= o.final_due() ? 1 : 0));
            },
            [&](const request_submitted&) {
                start("request_feedback", micros(_cal.within_working_days(ev.env.occurred,
                                                                          _policy.request_feedback_working_days)));
                start("request_qualification",
                      micros(_cal.within_working_days(ev.env.occurred, _policy.request_qualification_working_days)));
            },
            [&](const request_acknowledged&) { meet(obligation_key(name, "request_feedback")); },
            [&](const request_qualified& d) {
                meet(obligation_key(name, "request_qualification"));
                if (d.priority == "high") {
                    start("request_analysis",
                          micros(_cal.within_working_days(ev.env.occurred, _policy.request_analysis_working_days)));
                }
            },
            [&](const request_analysed&) { meet(obligation_key(name, "request_analysis")); },
            [&](const report_submitted& d) {
                if (d.kind == "uptime") {
                    auto& o = start("report_approval", at + micros(_policy.report_approval));
                    o.lapses_to_default = true;
                }
                if (d.kind == "uptime" || d.kind == "status") {
                    st.first_report(d.kind, d.period, report_fact{name, ev.env.system, offset, at});
                }
            },
            [&](const report_approved&) { meet(obligation_key(name, "report_approval")); },
            [&](const report_rejected&) { meet(obligation_key(name, "report_approval")); },
            [&](const key_activated&) {
                if (auto not_after = entity.time("not_after")) {
                    auto& o = start("key_rotation", *not_after);
                    o.warn_before_us = micros(_policy.key_rotation_warning);
                }
                // This key may be the successor a rotated key named.
                if (auto predecessor = st.link("successor:" + name)) meet(obligation_key(*predecessor, "key_rotation"));
            },
            [&](const key_rotated& d) {
                const std::string successor = "key/" + d.successor;
                st.set_link("successor:" + successor, name);
                if (auto s = st.entity(successor); s && s->time("activated") && s->state == "active") {
                    meet(obligation_key(name, "key_rotation"));
                }
            },
            [&](const key_revoked&) { meet(obligation_key(name, "key_rotation")); },
            [&](const access_granted& d) {
                if (d.expires_at) {
                    if (auto expires = micros_of(*d.expires_at)) start("access_expiry", *expires);
                }
                if (d.level == "admin") {
                    start("access_review", at + micros(_policy.access_review), 1);
                    st.set_link("review_seq:" + name, "1");
                }
            },
            [&](const access_reviewed&) {
                const auto n = review_seq();
                if (n == 0) return;  // not an admin access: no review is due
                meet(obligation_key(name, "access_review", n));
                // The next review is due a year after this one (domain.md 3.3: "or the last
                // access.reviewed").
                start("access_review", at + micros(_policy.access_review), n + 1);
                st.set_link("review_seq:" + name, std::to_string(n + 1));
            },
            [&](const access_revoked&) {
                meet(obligation_key(name, "access_expiry"));
                if (const auto n = review_seq(); n > 0) meet(obligation_key(name, "access_review", n));
            },
            [&](const outage_started&) {
                const auto open = st.link("outage_open:" + name);
                if (open && !open->empty()) return;  // already down
                st.set_link(outage_link(name, at), "");
                st.set_link("outage_open:" + name, std::to_string(at));
            },
            [&](const outage_ended&) {
                const auto open = st.link("outage_open:" + name);
                if (!open || open->empty()) return;
                st.set_link(outage_link(name, std::stoll(*open)), std::to_string(at));
                st.set_link("outage_open:" + name, "");
            },
            [&](const calendar_holiday_added& d) {
                if (auto date = parse_date(d.date)) {
                    _cal.set_holiday(civil_day{*date}, true);
                    st.set_link("holiday:" + d.date, "1");
                }
            },
            [&](const calendar_holiday_removed& d) {
                if (auto date = parse_date(d.date)) {
                    _cal.set_holiday(civil_day{*date}, false);
                    st.set_link("holiday:" + d.date, "0");
                }
            },
            [](const auto&) {},
        },
        ev.data);
}

}  // namespace ledger::projections
