#include "events/ledger_name.h"

#include <fmt/format.h>

namespace ledger::events {
namespace {

bool allowed(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

}  // namespace

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
