#pragma once
// A small blocking HTTP/1.1 client for the CLI's --url mode.

#include <string>

#include "events/error.h"

namespace ledger::app {

/// Splits http://HOST:PORT (or HOST:PORT) into host and port; false when it is not one.
[[nodiscard]] bool split_url(const std::string& url, std::string& host, std::string& port);

struct http_answer {
    unsigned status = 0;
    std::string body;
};

/// GET `target` (path and query) from `url` with an optional bearer token. Fails when the
/// server cannot be reached.
[[nodiscard]] result<http_answer> http_get(const std::string& url, const std::string& target, const std::string& token);

}  // namespace ledger::app
