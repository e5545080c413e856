#pragma once
// The HTTP types handlers see.

#include <functional>
#include <map>
#include <string>

#include <boost/beast/http.hpp>

namespace ledger::api {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/// Sends the response for one request. Call exactly once, from any thread.
using responder = std::function<void(response)>;

/// Path parameters ({kind} → "change") and decoded query parameters.
struct request_context {
    std::map<std::string, std::string> path;
    std::map<std::string, std::string> query;
};

using handler = std::function<void(request&&, const request_context&, responder)>;

}  // namespace ledger::api
