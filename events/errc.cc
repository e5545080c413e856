#include "events/errc.h"

#include <string>

namespace ledger::events {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.events"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::invalid_ledger_name: return "invalid ledger name";
            case errc::malformed_json: return "malformed JSON";
            case errc::not_an_object: return "not a JSON object";
            case errc::missing_field: return "missing field";
            case errc::unknown_field: return "unknown field";
            case errc::wrong_type: return "wrong JSON type";
            case errc::invalid_value: return "invalid value";
            case errc::not_in_enumeration: return "value outside its enumeration";
            case errc::unknown_type: return "unknown event type";
            case errc::entity_kind_mismatch: return "entity kind does not match the event type";
            case errc::missing_offset: return "timestamp without UTC offset";
            case errc::occurred_in_future: return "occurred_at is in the future";
        }
        return "unknown events error";
    }
};

}  // namespace

const std::error_category& events_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), events_category()}; }

}  // namespace ledger::events
