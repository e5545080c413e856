#include "api/auth.h"

#include "api/responses.h"

namespace ledger::api {

const token* authenticate_request(const token_store& tokens, const request& req, const responder& respond) {
    const auto header = req[http::field::authorization];
    const token* tok = tokens.authenticate_header(std::string_view(header.data(), header.size()));
    if (tok == nullptr) {
        auto res = error_response(req, http::status::unauthorized,
                                  header.empty() ? "An Authorization: Bearer <token> header is required."
                                                 : "The token is not valid.");
        res.set(http::field::www_authenticate, "Bearer");
        respond(std::move(res));
    }
    return tok;
}

}  // namespace ledger::api
