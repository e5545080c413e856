// Fuzz target: JSON text → event → Kafka record → event; the lean record decoder against the full one.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "events/canonical_json.h"
#include "events/event.h"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ledger::events;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const timestamp now = parse_rfc3339("2026-03-02T12:00:00Z").at;

    // Any bytes may be in Kafka: never crash on them, and the projector's lean decoder answers
    // as the full one does, errors included.
    const auto full = decode_record(text);
    const auto lean = decode_record_lean(text);
    check(full.has_value() == lean.has_value());
    if (!full) {
        check(lean.error().code == full.error().code && lean.error().field == full.error().field &&
              lean.error().message == full.error().message);
    } else {
        check(lean.value().ev.env.id == full.value().ev.env.id &&
              canonicalize(encode_data(lean.value().ev.data)) == canonicalize(encode_data(full.value().ev.data)));
    }

    auto parsed = parse_json(text);
    if (!parsed) return 0;
    // Canonical JSON is a fixed point: parsing and canonicalizing it again changes nothing.
    const auto canonical = canonicalize(parsed.value());
    auto again = parse_json(canonical);
    check(static_cast<bool>(again));
    check(canonicalize(again.value()) == canonical);

    auto ev = decode_event(parsed.value(), now);
    if (!ev) {
        check(!ev.error().message.empty());
        return 0;
    }
    // A valid event survives the trip through its Kafka record unchanged.
    const auto bytes = record_bytes(ev.value().posted, "fuzz", "2026-03-02T12:00:00.000Z");
    auto rec = decode_record(bytes);
    check(static_cast<bool>(rec));
    check(content_fingerprint(rec.value().ev.posted) == content_fingerprint(ev.value().posted));
    check(type_name(rec.value().ev.data) == ev.value().env.type);
    (void)encode_data(ev.value().data);
    return 0;
}
