#pragma once
// RFC 8785 (JSON Canonicalization Scheme): the bytes every hash and signature is taken over.

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace ledger::events {

/// The RFC 8785 canonical form of `value`: object members sorted by their UTF-16 code units,
/// no whitespace, strings with the minimal escaping of RFC 8785 3.2.2.2, numbers as ECMAScript
/// prints them (3.2.2.3). Throws std::domain_error for a NaN or infinite number (not JSON).
[[nodiscard]] std::string canonicalize(const nlohmann::json& value);

/// canonicalize() of `object` with `extra` string members added at the top level, without copying
/// it. The keys of `extra` must not be in `object`. Throws std::domain_error if not an object.
[[nodiscard]] std::string canonicalize_with(const nlohmann::json& object,
                                            std::span<const std::pair<std::string_view, std::string_view>> extra);

/// Whether `text` is exactly the RFC 8785 form of the JSON value it holds, in one pass without
/// building a document: no whitespace or trailing bytes, members in order and unique, strings
/// with the minimal escaping, numbers as format_number() prints them. (Its UTF-8 is taken as
/// valid: a record that parses has valid UTF-8.)
[[nodiscard]] bool is_canonical(std::string_view text);

/// ECMAScript Number::toString of a finite double (RFC 8785 3.2.2.3), e.g. 1e+30, 4.5, 0.002.
[[nodiscard]] std::string format_number(double value);

}  // namespace ledger::events
