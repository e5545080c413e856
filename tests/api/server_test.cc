// The HTTP server over a real socket: limits, keep-alive, status codes.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/health.h"
#include "api/responses.h"
#include "api/server.h"
#include "api/write_handlers.h"

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
        INFO(res.body());
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

namespace {
// True when the server closed the connection (a read ends with EOF or reset).
bool closed_by_server(tcp::socket& sock) {
    char c;
    beast::error_code ec;
    sock.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}
}  // namespace

TEST_CASE("a header not complete within the header deadline closes the connection") {
    server_options opts;
    opts.header_deadline = std::chrono::seconds(1);
    running_server s(opts);
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    asio::write(sock, asio::buffer(std::string("GET /v1/health HTTP/1.1\r\nHost: x\r\n")));  // no blank line
    const auto started = std::chrono::steady_clock::now();
    CHECK(closed_by_server(sock));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout") {
    server_options opts;
    opts.idle_timeout = std::chrono::seconds(1);
    running_server s(opts);
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    CHECK(send_and_read(sock, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").result() == http::status::ok);
    const auto started = std::chrono::steady_clock::now();
    CHECK(closed_by_server(sock));
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= std::chrono::milliseconds(900));
    CHECK(waited < std::chrono::seconds(5));
}

TEST_CASE("a Transfer-Encoding other than chunked gets 400") {
    running_server s;
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    auto res = send_and_read(sock, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
    CHECK(res.result() == http::status::bad_request);
    CHECK_THAT(res.body(), Catch::Contains("gzip"));
}

TEST_CASE("chunked bodies are read; Content-Length with Transfer-Encoding is refused") {
    running_server s;
    asio::io_context io;
    {
        auto sock = connect(io, s.endpoint);
        auto res = send_and_read(sock, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        CHECK(res.result() == http::status::ok);
        CHECK(nlohmann::json::parse(res.body()).at("size") == 3);
    }
    {
        auto sock = connect(io, s.endpoint);
        auto res = send_and_read(
            sock, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        CHECK(res.result() == http::status::bad_request);
    }
}

TEST_CASE("the body limit is chosen per request: 16 MiB for batches, 64 KiB otherwise") {
    http::request_header<> single;
    single.target("/v1/events");
    http::request_header<> batch;
    batch.target("/v1/events/batch");
    CHECK(body_limit_for(single) == 64 * 1024);
    CHECK(body_limit_for(batch) == 16 * 1024 * 1024);

    server_options opts;
    opts.body_limit = 64 * 1024;
    opts.body_limit_for = [](const http::request_header<>& h) -> std::uint64_t {
        return h.target() == "/echo" ? 100 * 1024 : 64 * 1024;
    };
    running_server s(opts);
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    auto res = send_and_read(sock, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 80000\r\n\r\n" + std::string(80000, 'a'));
    CHECK(res.result() == http::status::ok);
}

TEST_CASE("each answered request is timed into the duration histogram") {
    auto routes = std::make_shared<router>();
    add_health_routes(*routes, node_info{"t", "ledger.t", "test", "run"});
    // Answers after 150 ms, from another thread (as the handlers that wait for an offset do).
    routes->add(http::verb::get, "/slow", [](request&& req, const request_context&, responder rs) {
        std::thread([req = std::move(req), rs = std::move(rs)] {
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
            rs(json_response(req, http::status::ok, {{"slow", true}}));
        }).detach();
    });
    server_options opts;
    opts.listen = "127.0.0.1:0";
    server srv(opts, routes);
    REQUIRE(srv.start());
    asio::io_context io;
    auto sock = connect(io, srv.local_endpoint());
    CHECK(send_and_read(sock, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").result() == http::status::ok);
    CHECK(send_and_read(sock, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").result() == http::status::ok);
    CHECK(send_and_read(sock, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").result() == http::status::not_found);
    // The count is taken once the write completes, just after the client has the answer.
    for (int i = 0; i < 200 && srv.stats().duration_metrics().find("_count 3\n") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const auto text = srv.stats().duration_metrics();
    INFO(text);
    CHECK(text.find("# TYPE ledger_http_request_duration_seconds histogram\n") != std::string::npos);
    CHECK(text.find("ledger_http_request_duration_seconds_count 3\n") != std::string::npos);
    CHECK(text.find("ledger_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
    // The slow one is over 100 ms; the two others under it.
    CHECK(text.find("ledger_http_request_duration_seconds_bucket{le=\"0.1\"} 2\n") != std::string::npos);
    CHECK(text.find("ledger_http_request_duration_seconds_bucket{le=\"0.5\"} 3\n") != std::string::npos);
    // The sum holds the 150 ms of the slow one.
    const auto sum_at = text.find("_sum ");
    REQUIRE(sum_at != std::string::npos);
    const double sum = std::stod(text.substr(sum_at + 5));
    CHECK(sum >= 0.150);
    CHECK(sum < 1.0);
    srv.stop();
}

namespace {

// The slice (sched_attr.sched_runtime, ns) the kernel keeps for thread `tid`.
std::uint64_t slice_of(const std::string& tid) {
    struct {
        std::uint32_t size, policy;
        std::uint64_t flags;
        std::int32_t nice;
        std::uint32_t priority;
        std::uint64_t runtime, deadline, period;
    } attr{};
    REQUIRE(syscall(SYS_sched_getattr, std::stoi(tid), &attr, sizeof attr, 0) == 0);
    return attr.runtime;
}

bool kernel_has_custom_slices() {  // Linux 6.12
    utsname u{};
    uname(&u);
    int major = 0, minor = 0;
    std::sscanf(u.release, "%d.%d", &major, &minor);
    return major > 6 || (major == 6 && minor >= 12);
}

}  // namespace

TEST_CASE("the I/O threads are named ledger-http and ask for a 100 us time slice") {
    server_options opts;
    opts.threads = 3;
    running_server s(opts);
    // Each thread names itself as it starts: wait for the three (at most 2 s).
    std::vector<std::string> http_threads;
    for (int i = 0; i < 200 && http_threads.size() != 3; ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        http_threads.clear();
        for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
            std::ifstream comm(t.path() / "comm");
            std::string name;
            std::getline(comm, name);
            if (name == "ledger-http") http_threads.push_back(t.path().filename().string());
        }
    }
    REQUIRE(http_threads.size() == 3);
    if (kernel_has_custom_slices()) {
        for (const auto& tid : http_threads) CHECK(slice_of(tid) == 100'000);
        // The thread that started them keeps the kernel's own.
        CHECK(slice_of(std::to_string(gettid())) != 100'000);
    }
}

namespace {

// A server with /stream: `pieces` pieces "piece N\n", produced one at a time, each counted when
// the source is asked for it; /broken throws after three pieces.
struct streaming_server {
    std::shared_ptr<std::atomic<int>> asked = std::make_shared<std::atomic<int>>(0);
    std::unique_ptr<server> srv;
    tcp::endpoint endpoint;

    explicit streaming_server(int pieces) {
        auto routes = std::make_shared<router>();
        routes->add(http::verb::get, "/stream", [pieces, asked = asked](request&& req, const request_context&,
                                                                         responder rs) {
            streamed_header h{http::status::ok, req.version()};
            h.set(http::field::content_type, "text/plain");
            h.keep_alive(req.keep_alive());
            auto n = std::make_shared<int>(0);
            rs.stream(std::move(h), [n, pieces, asked](std::string& out) {
                if (*n == pieces) return false;
                ++*asked;
                out += "piece " + std::to_string((*n)++) + "\n";
                return true;
            });
        });
        routes->add(http::verb::get, "/broken", [](request&& req, const request_context&, responder rs) {
            streamed_header h{http::status::ok, req.version()};
            auto n = std::make_shared<int>(0);
            rs.stream(std::move(h), [n](std::string& out) {
                if (++*n > 3) throw std::runtime_error("the read models failed");
                out += "ok\n";
                return true;
            });
        });
        server_options opts;
        opts.listen = "127.0.0.1:0";
        srv = std::make_unique<server>(opts, routes);
        REQUIRE(srv->start());
        endpoint = srv->local_endpoint();
    }
    ~streaming_server() { srv->stop(); }
};

std::string expected_pieces(int pieces) {
    std::string s;
    for (int i = 0; i < pieces; ++i) s += "piece " + std::to_string(i) + "\n";
    return s;
}

}  // namespace

TEST_CASE("a streamed answer arrives chunked and whole, and the connection serves on") {
    streaming_server s(5000);
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    for (int round = 0; round < 2; ++round) {
        auto res = send_and_read(sock, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(res.result() == http::status::ok);
        CHECK(res.chunked());
        CHECK(res.count(http::field::content_length) == 0);
        CHECK(res[http::field::content_type] == "text/plain");
        CHECK(res.body() == expected_pieces(5000));
        CHECK(res.keep_alive());
    }
}

TEST_CASE("a streamed answer is produced as the client reads it, not ahead of it") {
    streaming_server s(200000);  // about 2.5 MB
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    sock.set_option(asio::socket_base::receive_buffer_size(4096));
    asio::write(sock, asio::buffer(std::string("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
    // The client reads nothing for a while: the source stops once the socket buffers are full.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int asked_while_idle = s.asked->load();
    INFO("pieces produced while the client read nothing: " << asked_while_idle);
    CHECK(asked_while_idle < 200000);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(sock, buf, res);
    CHECK(res.body() == expected_pieces(200000));
    CHECK(s.asked->load() == 200000);
}

TEST_CASE("HEAD on a streamed answer gets its header only") {
    streaming_server s(10);
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    asio::write(sock, asio::buffer(std::string("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
    beast::flat_buffer buf;
    http::response_parser<http::empty_body> p;
    p.skip(true);  // a HEAD answer has no body whatever its framing says
    http::read(sock, buf, p);
    CHECK(p.get().result() == http::status::ok);
    CHECK(s.asked->load() == 0);
    // The connection still serves.
    auto res = send_and_read(sock, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(res.body() == expected_pieces(10));
}

TEST_CASE("a streamed answer that fails midway is cut off, never complete-looking") {
    streaming_server s(1);
    asio::io_context io;
    auto sock = connect(io, s.endpoint);
    asio::write(sock, asio::buffer(std::string("GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(sock, buf, res, ec);
    CHECK(ec == http::error::partial_message);
}

TEST_CASE("a responder without a connection collects a streamed answer into one response") {
    response got;
    responder rs([&](response res) { got = std::move(res); });
    streamed_header h{http::status::ok, 11};
    h.set(http::field::content_type, "text/csv");
    int n = 0;
    rs.stream(std::move(h), [&](std::string& out) {
        if (n == 3) return false;
        out += std::to_string(n++) + ",";
        return true;
    });
    CHECK(got.result() == http::status::ok);
    CHECK(got[http::field::content_type] == "text/csv");
    CHECK(got.body() == "0,1,2,");
    CHECK(got[http::field::content_length] == "6");
}
