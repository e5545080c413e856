#pragma once
// Maps (method, path) to a handler. Patterns are literal segments or {name} captures:
// "/v1/entities/{kind}/{id}". A known path with another method answers 405, an unknown one 404.

#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"

namespace ledger::api {

class router {
public:
    /// Registers `h` for `method` on `pattern`. Not thread safe: register before serving.
    void add(http::verb method, std::string_view pattern, handler h);

    /// Dispatches one request. Thread safe once registration is over.
    void dispatch(request&& req, responder respond) const;

private:
    struct route {
        http::verb method;
        std::vector<std::string> segments;
        handler h;
    };
    std::vector<route> _routes;
};

/// Splits a request target into path and percent-decoded query parameters.
/// Returns false when the target is malformed (bad percent-encoding, not starting with '/').
[[nodiscard]] bool parse_target(std::string_view target, std::string& path,
                                std::map<std::string, std::string>& query);

}  // namespace ledger::api
