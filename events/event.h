#pragma once
// An event as posted (envelope + typed data), JSON decoding with every rule of domain.md 2.1,
// and the Kafka record of domain.md section 4.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "events/errc.h"
#include "events/error.h"
#include "events/event_types.h"
#include "events/hash.h"
#include "events/time.h"

namespace ledger::events {

/// The optional producer signature: Ed25519 over the RFC 8785 JSON of the event without it.
struct signature_ref {
    std::string key;  ///< "key/<id>"
    std::string sig;  ///< base64 of 64 bytes
};

struct envelope {
    std::string id;           ///< UUID, the idempotency key
    std::string type;         ///< public type string
    entity_kind kind{};       ///< from `entity`
    std::string entity;       ///< "<kind>/<id>"
    std::string entity_id;    ///< the part after '/'
    std::string system;
    std::string actor;
    std::string occurred_at;  ///< as the producer wrote it
    timestamp occurred{};     ///< the same instant, parsed
    std::optional<signature_ref> signature;
};

/// A decoded, valid event. `posted` holds the producer's fields exactly as sent.
struct event {
    envelope env;
    event_data data;
    nlohmann::json posted;
};

/// How far ahead of the ledger's clock occurred_at may be.
inline constexpr std::chrono::minutes max_clock_skew{5};
/// JSON nesting allowed in any input.
inline constexpr int max_json_depth = 32;

/// Parses JSON text, rejecting (errc::malformed_json, naming the problem) invalid JSON or
/// UTF-8, a duplicate key in any object, and nesting deeper than max_json_depth.
[[nodiscard]] result<nlohmann::json> parse_json(std::string_view text);

/// Decodes and validates one posted event. `now` is the ledger's clock (for the 5-minute rule);
/// nullopt skips that rule (for records read back from the log).
[[nodiscard]] result<event> decode_event(nlohmann::json posted, std::optional<timestamp> now);

/// Encodes typed data back to JSON (the inverse of decoding, for tests and tools).
[[nodiscard]] nlohmann::json encode_data(const event_data& data);

/// SHA-256 of the canonical JSON of the posted fields: what "identical content" means for an
/// idempotent retry (the ledger's own fields, producer and recorded_at, are not part of it).
[[nodiscard]] sha256_digest content_fingerprint(const nlohmann::json& posted);

/// The Kafka record of an event (domain.md 4): RFC 8785 JSON of the posted fields plus
/// `producer` and `recorded_at`.
[[nodiscard]] std::string record_bytes(const nlohmann::json& posted, std::string_view producer,
                                       std::string_view recorded_at);

/// A record read back from Kafka: the event, who posted it and when the ledger accepted it.
struct recorded_event {
    event ev;
    std::string producer;
    std::string recorded_at;
    timestamp recorded{};
};

/// Decodes a Kafka record written by record_bytes(); fails for anything else (errc names why).
[[nodiscard]] result<recorded_event> decode_record(std::string_view bytes);
/// decode_record(), the same answers and errors, but `ev.posted` is kept only for a signed event
/// (whose check needs it) and stays null otherwise: what a projector needs, at about half the
/// cost (no DOM is built for the rest).
[[nodiscard]] result<recorded_event> decode_record_lean(std::string_view bytes);
/// decode_record_lean() into `out` (a new recorded_event), for a caller that keeps it in place;
/// the error, if any (`out` is then partly filled and should be dropped).
[[nodiscard]] std::optional<error> decode_record_lean(std::string_view bytes, recorded_event& out);

}  // namespace ledger::events
