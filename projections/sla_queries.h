#pragma once
// SLA answers from the read models (interface.md): breaches and obligations as of a time, with
// the policy in force. Breaches come from the deadline index (a range scan up to the time asked),
// not from a scan of every obligation.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "projections/obligations.h"
#include "projections/store.h"

namespace ledger::projections {

struct obligation_filter {
    std::string system;
    std::string obligation;
    std::optional<obligation_state> state;   ///< obligations only; breaches are state breached
    std::optional<std::int64_t> since_us;    ///< due >= since
    std::optional<std::int64_t> until_us;    ///< due <= until
    std::optional<std::int64_t> as_of_us;    ///< world time; default now
};

/// {"as_of","policy","breaches":[{"obligation","entity","system","due","met_at","late_seconds","state",...}]},
/// by due time.
[[nodiscard]] nlohmann::json breaches(store& s, const obligation_filter& filter);
/// The same shape for every obligation (`state` filters), under "obligations".
[[nodiscard]] nlohmann::json obligations(store& s, const obligation_filter& filter);
/// The same answers as JSON text, as the API sends them: written item by item, without a
/// document for the whole list.
[[nodiscard]] std::string breaches_text(store& s, const obligation_filter& filter);
[[nodiscard]] std::string obligations_text(store& s, const obligation_filter& filter);
/// One obligation as JSON text, the same as obligation_json(o, v).dump().
void append_obligation(std::string& out, const obligation_row& o, const obligation_view& v);
/// The obligations of one entity as of a time, for its status.
[[nodiscard]] nlohmann::json entity_obligations(store& s, MDB_txn* txn, const std::string& entity,
                                                std::int64_t as_of_us);

/// One obligation as the API shows it.
[[nodiscard]] nlohmann::json obligation_json(const obligation_row& o, const obligation_view& v);

/// Breaches as CSV (RFC 4180), for the monthly report: obligation, entity, system, due, met_at,
/// late_seconds, state.
void breaches_csv(const nlohmann::json& breaches, std::ostream& out);
/// The same for a list of obligations (the same columns).
inline void obligations_csv(const nlohmann::json& obligations, std::ostream& out) { breaches_csv(obligations, out); }

}  // namespace ledger::projections
