#pragma once
// The SLA obligations of domain.md 3.3: which event starts each, which meets it, its deadline
// under the policy and the business calendar, and its state as of any time.
//
// The engine is pure logic over an sla_state (the projector's batch cache; a map in the tests):
// it is applied to each event in ledger order, after the event's own entity was folded.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"
#include "projections/calendar.h"
#include "projections/model.h"
#include "projections/sla_policy.h"

namespace ledger::projections {

enum class obligation_state { open, met, breached, waived };
[[nodiscard]] std::string_view to_string(obligation_state s) noexcept;
[[nodiscard]] std::optional<obligation_state> parse_obligation_state(std::string_view s) noexcept;

/// Every obligation of domain.md 3.3, so a filter naming another is refused.
[[nodiscard]] const std::vector<std::string_view>& obligation_names();

/// An obligation as of a time.
struct obligation_view {
    obligation_state state = obligation_state::open;
    std::int64_t due_us = 0;
    std::optional<std::int64_t> met_us;  ///< when it was met (by the due, or late)
    std::int64_t late_seconds = 0;       ///< met late: final; unmet past the due: up to the time asked
    bool warning = false;                ///< key_rotation: open within the warning period
    bool approved_by_default = false;    ///< report_approval: unanswered at the due (not a breach)
};

/// The obligation as of `t_us` (world time), or nullopt if it had not started by then.
/// Met at the due exactly is on time; unmet, it is breached once the due is before `t_us`.
[[nodiscard]] std::optional<obligation_view> obligation_at(const obligation_row& o, std::int64_t t_us);

/// The monthly obligations (uptime_report, status_report) for `period`, met by the first report
/// of that kind and period if any.
[[nodiscard]] obligation_row calendar_obligation(std::string_view obligation, std::chrono::year_month period,
                                                 const std::optional<report_fact>& met, const sla_policy& policy,
                                                 const calendar& cal);

/// The key of an obligation: its entity, its name and, for those that recur on one entity
/// (access_review after each review), a sequence number. Entity first, so an entity's
/// obligations are one range.
[[nodiscard]] std::string obligation_key(std::string_view entity, std::string_view obligation, std::uint64_t n = 0);
/// The first key of `entity`'s obligations.
[[nodiscard]] std::string obligation_prefix(std::string_view entity);

/// What the engine reads and changes besides the event's own entity.
class sla_state {
public:
    virtual ~sla_state() = default;
    /// The entity, or null; valid until the batch ends.
    [[nodiscard]] virtual const entity_record* entity(const std::string& key) = 0;
    /// The obligation stored under `key`, to read, or null.
    [[nodiscard]] virtual const obligation_row* find_obligation(const std::string& key) = 0;
    /// The same, to change in place: its owner writes it back. Asked for only to change it.
    [[nodiscard]] virtual obligation_row* obligation(const std::string& key) = 0;
    /// Stores (or replaces) an obligation.
    virtual obligation_row& put_obligation(const std::string& key, obligation_row row) = 0;
    /// Small facts between entities: a key's predecessor, a workaround's time, holidays.
    [[nodiscard]] virtual std::optional<std::string> link(const std::string& key) = 0;
    virtual void set_link(const std::string& key, const std::string& value) = 0;
    /// The first report.submitted of a kind for a period (later ones change nothing).
    virtual void first_report(const std::string& kind, const std::string& period, const report_fact& fact) = 0;
};

class sla_engine {
public:
    sla_engine(const sla_policy& policy, calendar& cal) : _policy(policy), _cal(cal) {}

    /// Starts, meets and waives obligations for one event (in ledger order). `entity` is the
    /// event's entity with the event folded in.
    void apply(const events::recorded_event& rec, std::int64_t offset, const entity_record& entity, sla_state& st);

    /// The due of an incident's resolution for its category, from the original report.
    [[nodiscard]] std::optional<std::int64_t> incident_due(const std::string& category, std::int64_t reported_us) const;

private:
    const sla_policy& _policy;
    calendar& _cal;
};

}  // namespace ledger::projections
