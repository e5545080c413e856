#pragma once
// Shapes every JSON answer, so that all errors look alike: {"error": "...", "field": "..."}.

#include <string>

#include <nlohmann/json.hpp>

#include "api/http.h"

namespace ledger::api {

/// {"error": message} plus "field" when it is not empty: the one shape of every error body.
[[nodiscard]] nlohmann::json error_body(const std::string& message, const std::string& field = {});

/// A JSON response with `status`, keeping the request's HTTP version and keep-alive.
response json_response(const request& req, http::status status, const nlohmann::json& body);
/// A JSON response without a request (for errors found before one was read).
response json_response(http::status status, const nlohmann::json& body, bool keep_alive = false);
/// {"error": message} plus "field" when given.
response error_response(const request& req, http::status status, const std::string& message,
                        const std::string& field = {});
response error_response(http::status status, const std::string& message, bool keep_alive = false);

}  // namespace ledger::api
