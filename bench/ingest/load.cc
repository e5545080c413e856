// Load generator for the ledger's HTTP API: N keep-alive connections posting single events or
// NDJSON batches, or reading entities (--get-prefix), as fast as answers come or paced at a
// fixed rate (open loop). Prints one JSON line of figures.
//
// Usage: ingest_load --url HOST:PORT --token T --events N [--connections C] [--batch B] [--rate R]
//        ingest_load --url HOST:PORT --token T --events N --get-prefix /v1/entities/change/C --keys K

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/event.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
    std::string host = "127.0.0.1";
    std::string port = "8080";
    std::string token;
    std::size_t events = 100000;
    std::size_t connections = 64;
    std::size_t batch = 0;  // 0: single POSTs
    std::string run_id;
    double rate = 0;  // requests per second, 0: as fast as answers come
    std::string get_prefix;  // GET prefix + key (1..keys) instead of posting events
    std::size_t keys = 1;
};

std::string event_json(const config& c, std::size_t n) {
    return fmt::format(
        R"({{"id":"{}-0000-4000-8000-{:012x}","type":"change.deployed","entity":"change/CHG-{}","system":"AGRESSO",)"
        R"("actor":"ola","occurred_at":"2026-03-02T10:15:00+01:00","data":{{"environment":"test","artifact":)"
        R"({{"name":"agresso","version":"5.7.{}","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}}}}})",
        c.run_id, n, n % 1000, n % 100);
}

struct shared_state {
    const config& cfg;
    std::size_t next = 0;  // next event number to send
    std::size_t done_events = 0;
    std::size_t ok = 0;
    std::size_t errors = 0;
    std::vector<double> latencies_ms;
    std::vector<std::pair<double, double>> timeline;  // (sent, latency) in ms, with --timeline
    bool keep_timeline = false;
    clock_type::time_point started = clock_type::now();
};

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(asio::io_context& io, shared_state& s) : _stream(io), _s(s), _timer(io) {}

    void start(const tcp::resolver::results_type& endpoints) {
        _stream.connect(endpoints);
        send_next();
    }

private:
    void send_next() {
        const std::size_t per = _s.cfg.batch == 0 ? 1 : _s.cfg.batch;
        if (_s.next >= _s.cfg.events) return;
        const std::size_t first = _s.next;
        const std::size_t count = std::min(per, _s.cfg.events - first);
        _s.next += count;
        _count = count;
        if (_s.cfg.rate > 0) {
            // Open loop: request k is due at started + k / rate. Latency counts from the due time,
            // so a slow answer that delays later requests is not hidden (no coordinated omission).
            const auto k = static_cast<double>(first / per);
            _due = _s.started + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(k / _s.cfg.rate));
            if (_due > clock_type::now()) {
                _timer.expires_at(_due);
                _timer.async_wait([self = shared_from_this(), first, count](beast::error_code ec) {
                    if (!ec) self->send(first, count);
                });
                return;
            }
        }
        send(first, count);
    }

    void send(std::size_t first, std::size_t count) {
        _req = {};
        _req.version(11);
        if (!_s.cfg.get_prefix.empty()) {
            // Keys spread over 1..keys by a multiplicative hash: no two neighbours in a row.
            _req.method(http::verb::get);
            _req.target(_s.cfg.keys == 0 ? _s.cfg.get_prefix
                                         : _s.cfg.get_prefix + std::to_string(1 + (first * 2654435761ULL) % _s.cfg.keys));
            _req.set(http::field::host, _s.cfg.host);
            _req.set(http::field::authorization, "Bearer " + _s.cfg.token);
            _req.keep_alive(true);
            _req.prepare_payload();
            write_and_read();
            return;
        }
        _req.method(http::verb::post);
        _req.target(_s.cfg.batch == 0 ? "/v1/events" : "/v1/events/batch");
        _req.set(http::field::host, _s.cfg.host);
        _req.set(http::field::authorization, "Bearer " + _s.cfg.token);
        _req.keep_alive(true);
        std::string body;
        for (std::size_t i = 0; i < count; ++i) {
            body += event_json(_s.cfg, first + i);
            if (_s.cfg.batch != 0) body += '\n';
        }
        _req.body() = std::move(body);
        _req.prepare_payload();
        write_and_read();
    }

    void write_and_read() {
        _sent = clock_type::now();
        if (_s.cfg.rate <= 0) _due = _sent;
        http::async_write(_stream, _req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail(ec);
            self->_res = {};
            self->_parser.emplace();
            self->_parser->body_limit(64 * 1024 * 1024);
            http::async_read(self->_stream, self->_buf, *self->_parser,
                             [self](beast::error_code e, std::size_t) { self->on_read(e); });
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) return fail(ec);
        const auto res = _parser->release();
        _s.latencies_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - _due).count());
        if (_s.keep_timeline) {
            _s.timeline.emplace_back(std::chrono::duration<double, std::milli>(_sent - _s.started).count(),
                                     _s.latencies_ms.back());
        }
        _s.done_events += _count;
        if (!_s.cfg.get_prefix.empty()) {
            res.result_int() == 200 ? ++_s.ok : ++_s.errors;
        } else if (_s.cfg.batch == 0) {
            (res.result_int() == 201 || res.result_int() == 200) ? ++_s.ok : ++_s.errors;
        } else {
            // One NDJSON result per event.
            std::size_t pos = 0;
            const auto& body = res.body();
            while (pos < body.size()) {
                auto nl = body.find('\n', pos);
                if (nl == std::string::npos) nl = body.size();
                const auto line = body.substr(pos, nl - pos);
                pos = nl + 1;
                if (line.find("\"status\":201") != std::string::npos || line.find("\"status\":200") != std::string::npos) {
                    ++_s.ok;
                } else if (!line.empty()) {
                    ++_s.errors;
                }
            }
        }
        send_next();
    }

    void fail(beast::error_code ec) {
        std::fprintf(stderr, "connection error: %s\n", ec.message().c_str());
        _s.errors += _count;
        _s.done_events += _count;
    }

    beast::tcp_stream _stream;
    beast::flat_buffer _buf;
    http::request<http::string_body> _req;
    http::response<http::string_body> _res;
    std::optional<http::response_parser<http::string_body>> _parser;
    shared_state& _s;
    asio::steady_timer _timer;
    clock_type::time_point _sent;
    clock_type::time_point _due;
    std::size_t _count = 0;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    config c;
    std::string url = "127.0.0.1:8080";
    CLI::App app{"Load generator for the ledger's HTTP API (posts or entity reads)"};
    app.add_option("--url", url, "HOST:PORT of the gateway");
    app.add_option("--token", c.token, "bearer token")->required();
    app.add_option("--events", c.events, "events to post");
    app.add_option("--connections", c.connections, "keep-alive connections");
    app.add_option("--batch", c.batch, "events per NDJSON batch (0: single POSTs)");
    app.add_option("--run-id", c.run_id, "8 hex digits making this run's ids unique (posting only)");
    app.add_option("--rate", c.rate,
                   "requests per second, paced (open loop; latency from each request's due time); "
                   "0: as fast as answers come");
    app.add_option("--get-prefix", c.get_prefix,
                   "read instead of posting: GET this prefix followed by a key from 1 to --keys, "
                   "e.g. /v1/entities/change/C");
    app.add_option("--keys", c.keys, "how many keys --get-prefix spreads over (0: the prefix is the whole path)")
        ->check(CLI::NonNegativeNumber);
    std::string timeline;
    app.add_option("--timeline", timeline, "write one line per request to this file: sent_ms latency_ms");
    CLI11_PARSE(app, argc, argv);
    if (c.get_prefix.empty() && c.run_id.empty()) {
        std::fprintf(stderr, "--run-id is required when posting events\n");
        return 2;
    }
    c.host = url.substr(0, url.rfind(':'));
    c.port = url.substr(url.rfind(':') + 1);

    asio::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(c.host, c.port);
    shared_state s{c, 0, 0, 0, 0, {}, {}, false, clock_type::now()};
    s.keep_timeline = !timeline.empty();
    s.latencies_ms.reserve(c.batch == 0 ? c.events : c.events / c.batch + 1);
    const auto started = clock_type::now();
    s.started = started;
    std::vector<std::shared_ptr<connection>> conns;
    for (std::size_t i = 0; i < c.connections; ++i) {
        conns.push_back(std::make_shared<connection>(io, s));
        conns.back()->start(endpoints);
    }
    io.run();
    const double secs = std::chrono::duration<double>(clock_type::now() - started).count();

    // The exact Kafka record of one such event, for ProducerPerformance's --record-size.
    const auto posted = ledger::events::parse_json(event_json(c, 1)).value();
    const auto record = ledger::events::record_bytes(posted, "bench", "2026-11-22T05:40:00.000Z");
    nlohmann::json out{{"mode", !c.get_prefix.empty() ? "get" : c.batch == 0 ? "single" : "batch"},
                       {"connections", c.connections},
                       {"batch", c.batch},
                       {"rate", c.rate},
                       {"events", s.done_events},
                       {"ok", s.ok},
                       {"errors", s.errors},
                       {"seconds", secs},
                       {"events_per_second", static_cast<double>(s.done_events) / secs},
                       {"p50_ms", percentile(s.latencies_ms, 0.50)},
                       {"p99_ms", percentile(s.latencies_ms, 0.99)},
                       {"record_bytes", record.size()}};
    std::printf("%s\n", out.dump().c_str());
    if (!timeline.empty()) {
        if (std::FILE* f = std::fopen(timeline.c_str(), "w")) {
            for (const auto& [sent, latency] : s.timeline) std::fprintf(f, "%.3f %.3f\n", sent, latency);
            std::fclose(f);
        }
    }
    return s.errors == 0 ? 0 : 1;
}
