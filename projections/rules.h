#pragma once
// The rules of domain.md section 3.1 (states) and 3.2 (compliance findings), as pure functions
// of an event, its entity as it was before the event, and what else the ledger knew then.
// The projector calls them in ledger order; `as_of` reads call fold() on a filtered trail.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"
#include "projections/model.h"

namespace ledger::projections {

/// The state `ev` sets on its entity (domain.md 3.1), or nullopt when it keeps the state.
[[nodiscard]] std::optional<std::string> state_after(const events::event& ev);

/// Applies `ev`'s own effects to its entity record: state, fields and facts. Does not touch
/// seq, last_offset or the last_* fields (the caller knows the offset).
void fold(entity_record& rec, const events::event& ev);

/// What the rules may look up besides the event's own entity: other entities and the roles
/// of actors, as the ledger knew them just before the event.
class lookup {
public:
    virtual ~lookup() = default;
    /// The entity as the batch has it so far, or null; valid until the batch ends.
    [[nodiscard]] virtual const entity_record* entity(const std::string& entity) = 0;
    [[nodiscard]] virtual const std::vector<grant>& grants_of(const std::string& actor) = 0;
};

struct raised {
    std::string finding;
    std::string detail;
    std::string severity = "violation";
};

/// The findings `rec` raises, judged against its entity as it was before (`before`, empty for
/// a new entity) and `look`. In the order of domain.md 3.2.
[[nodiscard]] std::vector<raised> judge(const events::recorded_event& rec, const entity_record& before,
                                        lookup& look);

/// The role an event's actor needs (domain.md 3.2 unauthorized_actor): none, or one of the
/// listed roles for the event's system.
[[nodiscard]] std::vector<std::string> roles_needed(const events::event& ev);

/// Whether `grants` give one of `roles` for `system` at `at_us`.
[[nodiscard]] bool holds_role(const std::vector<grant>& grants, const std::vector<std::string>& roles,
                              const std::string& system, std::int64_t at_us);

/// Every finding the ledger raises (domain.md 3.2, plus the record-level ones of the projector),
/// so a filter naming another is refused rather than answered with an empty list.
[[nodiscard]] const std::vector<std::string_view>& finding_names();

/// recorded_at_mismatch: recorded_at further than this from the broker's timestamp of the record
/// (the gateway stamps both within milliseconds; a producer's retries stay within its 30 s timeout).
inline constexpr std::int64_t recorded_at_tolerance_ms = 5 * 60 * 1000;

/// Late recording threshold: recorded_at more than this after occurred_at.
inline constexpr std::chrono::hours late_recording_after{24};

}  // namespace ledger::projections
