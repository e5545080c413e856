#pragma once
// librdkafka configuration shared by the producer, the consumer and the admin client.

#include <map>
#include <string>

#include "events/error.h"

namespace ledger::producers {

/// Extra librdkafka properties (name → value), e.g. from `--kafka-option`.
using kafka_properties = std::map<std::string, std::string>;

enum class errc {
    weakened_durability = 1,  ///< configuration would let an acknowledged record be lost or doubled
    invalid_property,         ///< librdkafka rejected a property
    kafka_unavailable,        ///< brokers unreachable or timed out
    kafka_fatal,              ///< the producer hit a fatal error and refuses new appends
    delivery_failed,          ///< Kafka did not acknowledge the record
    topic_policy,             ///< the ledger topic would lose or compact audit data
    admin_failed,             ///< an Admin API request failed
};

const std::error_category& producers_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace ledger::producers

template <>
struct std::is_error_code_enum<ledger::producers::errc> : std::true_type {};
