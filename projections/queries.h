#pragma once
// The questions of domain.md section 1, answered from the read models as JSON in the shapes of
// interface.md. Every function takes one read transaction, so an answer is one snapshot.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "events/hash.h"
#include "projections/store.h"

namespace ledger::projections {

/// Status of one entity ("<kind>/<id>"), as of a world time (µs; nullopt: everything applied).
/// nullopt if the entity has no event (by that time).
[[nodiscard]] std::optional<nlohmann::json> entity_status(store& s, const std::string& entity,
                                                          std::optional<std::int64_t> as_of_us);

/// The events of one entity, in ledger order: {"events":[...]}. With `as_of_us`, only those that
/// had occurred by then (domain.md 5).
[[nodiscard]] nlohmann::json entity_trail(store& s, const std::string& entity,
                                          std::optional<std::int64_t> as_of_us = std::nullopt);
/// The events an actor did, in ledger order.
[[nodiscard]] nlohmann::json actor_trail(store& s, const std::string& actor,
                                         std::optional<std::int64_t> as_of_us = std::nullopt);
/// The events of one system, in ledger order.
[[nodiscard]] nlohmann::json system_trail(store& s, const std::string& system,
                                          std::optional<std::int64_t> as_of_us = std::nullopt);

/// Events whose occurred_at lies in [from, to] (µs), optionally of one system, in ledger order.
[[nodiscard]] nlohmann::json timeline(store& s, std::int64_t from_us, std::int64_t to_us, const std::string& system);

struct entity_filter {
    std::string kind;    ///< "change", ...; empty: every kind
    std::string system;  ///< empty: every system
};
/// {"entities":[{"entity","system","state","seq","last_offset","last_type","last_occurred_at"}]}, by
/// entity (the current state; status as of a time is per entity).
[[nodiscard]] nlohmann::json entities(store& s, const entity_filter& filter);

struct finding_filter {
    std::string system;
    std::string finding;
    std::optional<std::int64_t> since_us;  ///< occurred_at >= since
    std::optional<std::int64_t> until_us;  ///< occurred_at <= until
    std::optional<std::int64_t> as_of_us;  ///< raised by events that had occurred by then
};
/// {"findings":[{"finding","entity","system","event_id","offset","detail",...}]}, in ledger order.
[[nodiscard]] nlohmann::json findings(store& s, const finding_filter& filter);

/// Findings as CSV (RFC 4180): finding, entity, system, event_id, offset, occurred_at, severity, detail.
void findings_csv(const nlohmann::json& findings, std::ostream& out);

/// One SHA-256 over the whole deterministic content of the read models (everything but the
/// checkpoints, which carry signing times, and the data directory's own key), as hex.
[[nodiscard]] std::string digest(store& s);

/// The event at `offset` as reads show it, or nullopt.
[[nodiscard]] std::optional<nlohmann::json> event_at(store& s, std::int64_t offset);

}  // namespace ledger::projections
