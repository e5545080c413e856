#pragma once
// Identifiers used across the ledger. Each is its own type (see named_type.h).

#include <cstdint>
#include <string>

#include "events/named_type.h"

namespace ledger {

/// Offset of a record in the ledger's single Kafka partition: the ledger order.
using ledger_offset = named_type<std::int64_t, struct ledger_offset_tag>;
/// Position of an event within its entity: 1, 2, ...
using entity_seq = named_type<std::uint64_t, struct entity_seq_tag>;
/// Producer-chosen unique id of an event (a UUID): the idempotency key.
using event_id = named_type<std::string, struct event_id_tag>;

/// Where Kafka stored a record.
struct ledger_coordinates {
    std::string topic;
    std::int32_t partition = 0;
    ledger_offset offset{0};
};

}  // namespace ledger
