#include "apps/ledger/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "events/errc.h"

namespace ledger::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool split_url(const std::string& url, std::string& host, std::string& port) {
    std::string rest = url;
    if (rest.starts_with("http://")) rest = rest.substr(7);
    else if (rest.find("://") != std::string::npos) return false;
    if (const auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
    const auto colon = rest.rfind(':');
    host = colon == std::string::npos ? rest : rest.substr(0, colon);
    port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    return !host.empty() && !port.empty();
}

result<http_answer> http_get(const std::string& url, const std::string& target, const std::string& token) {
    std::string host, port;
    if (!split_url(url, host, port)) {
        return failure(events::errc::invalid_value, fmt::format("--url '{}' is not http://HOST:PORT.", url), "url");
    }
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (!ec) stream.connect(endpoints, ec);
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::accept, "application/json");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    stream.expires_after(std::chrono::seconds(120));
    if (!ec) http::write(stream, req, ec);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024ull * 1024 * 1024);
    if (!ec) http::read(stream, buf, parser, ec);
    if (ec) {
        return failure(events::errc::invalid_value, fmt::format("Cannot reach {}: {}.", url, ec.message()), "url");
    }
    auto res = parser.release();
    return http_answer{res.result_int(), std::move(res.body())};
}

}  // namespace ledger::app
