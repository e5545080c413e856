#include "api/responses.h"

namespace ledger::api {
nlohmann::json error_body(const std::string& message, const std::string& field) {
    nlohmann::json body{{"error", message}};
    if (!field.empty()) {
        body["field"] = field;
    }
    return body;
}

response json_response(http::status status, const nlohmann::json& body, bool keep_alive) {
    response res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "audit-ledger");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    // Replace invalid UTF-8 rather than throw: an error message may quote bad input.
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    res.body() += '\n';
    res.prepare_payload();
    return res;
}

response json_response(const request& req, http::status status, const nlohmann::json& body) {
    auto res = json_response(status, body, req.keep_alive());
    res.version(req.version());
    return res;
}

response error_response(const request& req, http::status status, const std::string& message,
                        const std::string& field) {
    return json_response(req, status, error_body(message, field));
}

response error_response(http::status status, const std::string& message, bool keep_alive) {
    return json_response(status, error_body(message, {}), keep_alive);
}

}  // namespace ledger::api
