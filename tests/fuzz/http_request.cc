// Fuzz target: raw bytes through Beast's request parser (with the server's limits) and the router
// to the health endpoint and the event-body check of POST /v1/events.

#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "api/health.h"
#include "api/responses.h"
#include "api/router.h"
#include "api/tokens.h"
#include "api/write_handlers.h"
#include "events/hash.h"

using namespace ledger::api;
namespace beast = boost::beast;

namespace {

const token_store& tokens() {
    static const token_store store({token{"fuzz", ledger::events::sha256("secret"), {"produce:AGRESSO"}}});
    return store;
}

const router& routes() {
    static const router r = [] {
        router rt;
        add_health_routes(rt, node_info{"fuzz", "ledger.fuzz", "0", "run"});
        rt.add(http::verb::post, "/v1/events", [](request&& req, const request_context&, responder respond) {
            const auto auth = req[http::field::authorization];
            const token* tok = tokens().authenticate_header(std::string_view(auth.data(), auth.size()));
            if (tok == nullptr) {
                respond(error_response(req, http::status::unauthorized, "no token"));
                return;
            }
            auto checked = check_event_body(req.body(), *tok);
            if (auto* refused = std::get_if<refusal>(&checked)) {
                respond(json_response(req, refused->status, refused->body));
            } else {
                respond(json_response(req, http::status::created, {{"ok", true}}));
            }
        });
        return rt;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(max_event_body);
    parser.eager(true);
    beast::error_code ec;
    std::size_t used = 0;
    while (used < size && !parser.is_done()) {
        const auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
        if (ec == http::error::need_more) {
            ec = {};
            break;
        }
        if (ec || n == 0) break;
        used += n;
    }
    // Beast requires some input before an end of stream (its own server path does the same).
    if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
    routes().dispatch(parser.release(), [](response res) { (void)res.body().size(); });
    return 0;
}
