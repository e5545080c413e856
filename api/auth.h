#pragma once
// Who is asking: the bearer token of a request, or a 401 answered on the spot.

#include "api/http.h"
#include "api/tokens.h"

namespace ledger::api {

/// The token of `req`'s Authorization header; nullptr after answering 401 (with
/// WWW-Authenticate: Bearer) through `respond`. Scope checks are the caller's.
[[nodiscard]] const token* authenticate_request(const token_store& tokens, const request& req,
                                                const responder& respond);

}  // namespace ledger::api
