#include "events/ledger_name.h"

#include <fmt/format.h>

namespace ledger::events {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.events"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::invalid_ledger_name: return "invalid ledger name";
        }
        return "unknown events error";
    }
};

bool allowed(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

}  // namespace

const std::error_category& events_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), events_category()}; }

result<ledger_name> ledger_name::parse(std::string_view text) {
    constexpr std::size_t max_length = 200;
    if (text.empty()) {
        return failure(errc::invalid_ledger_name, "The ledger name is empty.", "ledger");
    }
    if (text.size() > max_length) {
        return failure(errc::invalid_ledger_name,
                       fmt::format("The ledger name is {} characters long; at most {} are allowed.",
                                   text.size(), max_length),
                       "ledger");
    }
    for (char c : text) {
        if (!allowed(c)) {
            return failure(errc::invalid_ledger_name,
                           fmt::format("The ledger name '{}' contains '{}'; use letters, digits, '_' and '-'.",
                                       text, c),
                           "ledger");
        }
    }
    return ledger_name{std::string(text)};
}

}  // namespace ledger::events
