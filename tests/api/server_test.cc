// The HTTP server over a real socket: limits, keep-alive, status codes.

#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/health.h"
#include "api/responses.h"
#include "api/server.h"

using namespace ledger::api;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

struct running_server {
    std::unique_ptr<server> srv;
    tcp::endpoint endpoint;

    explicit running_server(server_options opts = {}) {
        auto routes = std::make_shared<router>();
        add_health_routes(*routes, node_info{"t", "ledger.t", "test", "run"});
        routes->add(http::verb::post, "/echo", [](request&& req, const request_context&, responder rs) {
            rs(json_response(req, http::status::ok, {{"size", req.body().size()}}));
        });
        opts.listen = "127.0.0.1:0";
        srv = std::make_unique<server>(opts, routes);
        REQUIRE(srv->start());
        endpoint = srv->local_endpoint();
    }
    ~running_server() { srv->stop(); }
};

// Sends raw bytes on a fresh or given connection and reads one response.
http::response<http::string_body> send_and_read(tcp::socket& sock, const std::string& raw) {
    asio::write(sock, asio::buffer(raw));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(sock, buf, res);
    return res;
}

tcp::socket connect(asio::io_context& io, const tcp::endpoint& ep) {
    tcp::socket sock(io);
    sock.connect(ep);
    return sock;
}

}  // namespace

TEST_CASE("GET /v1/health answers 200 with the ledger's name") {
    running_server s;
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    auto res = send_and_read(sock, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(res.result() == http::status::ok);
    auto body = nlohmann::json::parse(res.body());
    CHECK(body.at("status") == "ok");
    CHECK(body.at("ledger") == "t");
    CHECK(res[http::field::content_type] == "application/json");
}

TEST_CASE("a keep-alive connection serves several requests") {
    running_server s;
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    for (int i = 0; i < 3; ++i) {
        auto res = send_and_read(sock, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(res.result() == http::status::ok);
        CHECK(res.keep_alive());
    }
}

TEST_CASE("a header over 8 KiB gets 431") {
    running_server s;
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    auto res = send_and_read(sock, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
    CHECK(res.result() == http::status::request_header_fields_too_large);
}

TEST_CASE("a body over the limit gets 413; one under it is served") {
    server_options opts;
    opts.body_limit = 1024;
    running_server s(opts);
    asio::io_context io;
    {
        auto sock = connect(io, s.endpoint);
        auto res = send_and_read(sock, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" +
                                      std::string(2000, 'a'));
        CHECK(res.result() == http::status::payload_too_large);
    }
    {
        auto sock = connect(io, s.endpoint);
        auto res = send_and_read(sock, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                                      std::string(1000, 'a'));
        CHECK(res.result() == http::status::ok);
        CHECK(nlohmann::json::parse(res.body()).at("size") == 1000);
    }
}

TEST_CASE("garbage instead of HTTP gets 400") {
    running_server s;
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    auto res = send_and_read(sock, "NOT HTTP AT ALL\r\n\r\n");
    CHECK(res.result() == http::status::bad_request);
}

TEST_CASE("connections over the cap are answered 503") {
    server_options opts;
    opts.max_connections = 1;
    running_server s(opts);
    asio::io_context io;
    auto first = connect(io, s.endpoint);
    CHECK(send_and_read(first, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").result() == http::status::ok);
    auto second = connect(io, s.endpoint);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(second, buf, res);
    CHECK(res.result() == http::status::service_unavailable);
}

TEST_CASE("a bad listen address is refused naming it") {
    server_options opts;
    opts.listen = "127.0.0.1";
    server srv(opts, std::make_shared<router>());
    auto started = srv.start();
    REQUIRE_FALSE(started);
    CHECK(started.error().field == "listen");
    CHECK_THAT(started.error().message, Catch::Contains("HOST:PORT"));
}
