#pragma once
// The events module's error codes: expected failures of decoding, each reported with a sentence
// and the field path (events/error.h).

#include <system_error>

namespace ledger::events {

enum class errc {
    invalid_ledger_name = 1,
    malformed_json,        ///< not JSON, duplicate key, nested too deep
    not_an_object,         ///< the event (or a nested value) is not a JSON object
    missing_field,         ///< a required field is absent
    unknown_field,         ///< a field the type does not have
    wrong_type,            ///< e.g. a number where a string belongs
    invalid_value,         ///< a value of the right type in the wrong format
    not_in_enumeration,    ///< a value outside its enumeration
    unknown_type,          ///< an event type domain.md does not define
    entity_kind_mismatch,  ///< entity kind does not match the type
    missing_offset,        ///< a timestamp without UTC offset
    occurred_in_future,    ///< occurred_at more than 5 minutes ahead of the ledger's clock
};

const std::error_category& events_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace ledger::events

template <>
struct std::is_error_code_enum<ledger::events::errc> : std::true_type {};
