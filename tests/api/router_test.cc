#include <catch2/catch.hpp>

#include "api/responses.h"
#include "api/router.h"

using namespace ledger::api;

namespace {

request make(http::verb method, std::string target) {
    request req{method, target, 11};
    return req;
}

response dispatch(const router& r, request req) {
    response out;
    r.dispatch(std::move(req), [&out](response res) { out = std::move(res); });
    return out;
}

}  // namespace

TEST_CASE("the router captures path parameters and decodes the query") {
    router r;
    std::map<std::string, std::string> seen_path, seen_query;
    r.add(http::verb::get, "/v1/entities/{kind}/{id}", [&](request&& req, const request_context& ctx, responder rs) {
        seen_path = ctx.path;
        seen_query = ctx.query;
        rs(json_response(req, http::status::ok, {{"ok", true}}));
    });
    auto res = dispatch(r, make(http::verb::get, "/v1/entities/change/CHG%2D17?as_of=2026-03-01T12%3A00%3A00%2B01%3A00&x"));
    CHECK(res.result() == http::status::ok);
    CHECK(seen_path.at("kind") == "change");
    CHECK(seen_path.at("id") == "CHG-17");
    CHECK(seen_query.at("as_of") == "2026-03-01T12:00:00+01:00");
    CHECK(seen_query.at("x").empty());
}

TEST_CASE("unknown paths answer 404, wrong methods 405, malformed targets 400") {
    router r;
    r.add(http::verb::get, "/v1/health",
          [](request&& req, const request_context&, responder rs) { rs(json_response(req, http::status::ok, {})); });
    CHECK(dispatch(r, make(http::verb::get, "/v1/nothing")).result() == http::status::not_found);
    const auto wrong = dispatch(r, make(http::verb::post, "/v1/health"));
    CHECK(wrong.result() == http::status::method_not_allowed);
    CHECK(wrong[http::field::allow] == "GET, HEAD");  // RFC 9110: a 405 says what the path takes
    CHECK(dispatch(r, make(http::verb::get, "/v1/health?a=%zz")).result() == http::status::bad_request);
    CHECK(dispatch(r, make(http::verb::get, "/v1/health")).result() == http::status::ok);
    auto missing = dispatch(r, make(http::verb::get, "/v1/nothing"));
    CHECK(nlohmann::json::parse(missing.body()).at("error") == "No such endpoint: /v1/nothing.");
}

TEST_CASE("an empty path segment does not match a parameter") {
    router r;
    r.add(http::verb::get, "/v1/entities/{kind}/{id}",
          [](request&& req, const request_context&, responder rs) { rs(json_response(req, http::status::ok, {})); });
    CHECK(dispatch(r, make(http::verb::get, "/v1/entities/change/")).result() == http::status::not_found);
}
