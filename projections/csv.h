#pragma once
// CSV (RFC 4180) for the report endpoints: a field quoted when it must be.

#include <string>

namespace ledger::projections {

/// `v` as a CSV field: as it is, or in double quotes with its quotes doubled when it holds a
/// comma, a quote or a line break.
[[nodiscard]] inline std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char ch : v) {
        if (ch == '"') q += '"';
        q += ch;
    }
    return q + "\"";
}

}  // namespace ledger::projections
