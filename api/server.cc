#include "api/server.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/responses.h"

namespace ledger::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.api"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::bad_listen_address: return "bad listen address";
            case errc::cannot_listen: return "cannot listen";
        }
        return "unknown api error";
    }
};

}  // namespace

struct server::client_counts {
    std::mutex mu;
    std::unordered_map<std::string, std::size_t> open;  // guarded by mu
};

namespace {

// One connection: reads requests one after another, hands each to the router, writes the
// answer. All of its work runs on its own strand.
class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket&& socket, const server_options& options, std::shared_ptr<const router> routes,
            std::shared_ptr<server_stats> stats, std::shared_ptr<server::client_counts> clients, std::string client)
        : _stream(std::move(socket)),
          _options(options),
          _routes(std::move(routes)),
          _stats(std::move(stats)),
          _clients(std::move(clients)),
          _client(std::move(client)) {
        ++_stats->connections_open;  // the client's count was taken by the acceptor
    }
    ~session() {
        --_stats->connections_open;
        std::lock_guard lock(_clients->mu);
        if (const auto it = _clients->open.find(_client); it != _clients->open.end() && --it->second == 0) {
            _clients->open.erase(it);
        }
    }

    void start() {
        asio::dispatch(_stream.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
    }

private:
    // Between requests the connection may idle; once a byte arrives the header deadline runs.
    void wait_for_request() {
        if (_buffer.size() > 0) {
            read_header();
            return;
        }
        // A new connection has the header deadline to begin its first request; between requests a
        // keep-alive connection may idle longer.
        _stream.expires_after(_served == 0 ? std::chrono::duration_cast<std::chrono::seconds>(_options.header_deadline)
                                           : _options.idle_timeout);
        _stream.async_read_some(_buffer.prepare(4096),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    if (ec) {
                                        self->close();
                                        return;
                                    }
                                    self->_buffer.commit(n);
                                    self->read_header();
                                });
    }

    void read_header() {
        _started = std::chrono::steady_clock::now();
        _parser.emplace();
        _parser->header_limit(_options.header_limit);
        // Beast checks Content-Length against the body limit while reading the header, before the
        // per-request limit is known: read headers unlimited, apply the limit in on_header. (Not
        // boost::none: Beast 1.74 compares the length with the optional, and none loses.)
        _parser->body_limit(std::numeric_limits<std::uint64_t>::max());
        _stream.expires_after(_options.header_deadline);
        http::async_read_header(_stream, _buffer, *_parser,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec) {
            on_read_error(ec);
            return;
        }
        // Framing that proxies and servers may read differently is refused (request smuggling).
        const auto& header = _parser->get();
        const auto te = header[http::field::transfer_encoding];
        if (!te.empty() && header.count(http::field::content_length) > 0) {
            write(error_response(http::status::bad_request,
                                 "A request may not carry both Content-Length and Transfer-Encoding."),
                  false);
            return;
        }
        if (!te.empty() && !beast::iequals(te, "chunked")) {
            write(error_response(http::status::bad_request,
                                 "Transfer-Encoding '" + std::string(te) + "' is not supported; use chunked."),
                  false);
            return;
        }
        const std::uint64_t limit = _options.body_limit_for ? _options.body_limit_for(header) : _options.body_limit;
        if (const auto length = _parser->content_length(); length && *length > limit) {
            write(error_response(http::status::payload_too_large,
                                 fmt::format("The request body is {} bytes; at most {} are accepted here.", *length,
                                             limit)),
                  false);
            return;
        }
        _parser->body_limit(limit);  // for chunked bodies, checked as they arrive
        _stream.expires_after(_options.request_deadline);
        http::async_read(_stream, _buffer, *_parser,
                         [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_body(e); });
    }

    void on_body(beast::error_code ec) {
        if (ec) {
            on_read_error(ec);
            return;
        }
        _stream.expires_never();
        ++_stats->requests_in_flight;
        auto self = shared_from_this();
        _head_request = _parser->get().method() == http::verb::head;
        responder respond(
            [self](response res) {
                asio::post(self->_stream.get_executor(),
                           [self, res = std::move(res)]() mutable { self->write(std::move(res), true); });
            },
            [self](streamed_header header, body_source source) {
                asio::post(self->_stream.get_executor(),
                           [self, header = std::move(header), source = std::move(source)]() mutable {
                               self->write_streamed(std::move(header), std::move(source));
                           });
            });
        try {
            _routes->dispatch(_parser->release(), std::move(respond));
        } catch (const std::exception& e) {
            // A handler that throws is a bug; the client still gets an answer.
            spdlog::error("handler failed: {}", e.what());
            write(error_response(http::status::internal_server_error, "Internal error."), true);
        }
    }

    void on_read_error(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
            ec == asio::error::connection_reset) {
            close();
            return;
        }
        if (ec == http::error::header_limit) {
            write(error_response(http::status::request_header_fields_too_large,
                                 fmt::format("The request header exceeds {} bytes.", _options.header_limit)),
                  false);
            return;
        }
        if (ec == http::error::body_limit) {
            write(error_response(http::status::payload_too_large, "The request body is too large."), false);
            return;
        }
        if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
            write(error_response(http::status::bad_request, "Malformed HTTP request: " + ec.message() + "."), false);
            return;
        }
        close();
    }

    // Writes `res`; `counted` says the response ends a request that on_body counted.
    void write(response res, bool counted) {
        auto msg = std::make_shared<response>(std::move(res));
        if (const auto code = msg->result_int(); code < _stats->responses_by_status.size()) {
            ++_stats->responses_by_status[code];
        }
        if (!counted) {
            msg->keep_alive(false);
        }
        _stream.expires_after(_options.request_deadline);
        http::async_write(_stream, *msg,
                          [self = shared_from_this(), msg, counted](beast::error_code ec, std::size_t) {
                              if (counted) {
                                  --self->_stats->requests_in_flight;
                              }
                              self->_stats->record_duration(static_cast<std::uint64_t>(
                                  std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - self->_started)
                                      .count()));
                              if (ec || msg->need_eof()) {
                                  self->close();
                                  return;
                              }
                              ++self->_served;
                              self->wait_for_request();
                          });
    }

    // A streamed answer: the header, then each piece of `source` as a chunk once the previous one
    // is written (so a slow client slows the source, and nothing piles up in memory), then the
    // last chunk. Every step runs on this connection's strand; no thread of its own.
    struct streamed {
        streamed_header header;
        body_source source;
        std::optional<http::response_serializer<http::empty_body>> serializer;
        std::string piece;
    };

    void write_streamed(streamed_header header, body_source source) {
        auto st = std::make_shared<streamed>();
        st->header = std::move(header);
        st->source = std::move(source);
        if (const auto code = st->header.result_int(); code < _stats->responses_by_status.size()) {
            ++_stats->responses_by_status[code];
        }
        st->header.chunked(true);
        st->serializer.emplace(st->header);
        _stream.expires_after(_options.request_deadline);
        http::async_write_header(_stream, *st->serializer, [self = shared_from_this(), st](beast::error_code ec, std::size_t) {
            if (ec) {
                self->finish_streamed(st, ec);
                return;
            }
            if (self->_head_request) {
                self->finish_streamed(st, {});
                return;
            }
            self->next_piece(st);
        });
    }

    void next_piece(const std::shared_ptr<streamed>& st) {
        st->piece.clear();
        bool more = false;
        try {
            // Pieces may come out empty (a stage with nothing to say): ask again, up to a bound.
            for (int i = 0; i < 64 && (more = st->source(st->piece)) && st->piece.empty(); ++i) {
            }
        } catch (const std::exception& e) {
            spdlog::error("http: a streamed answer failed after its header was sent: {}", e.what());
            finish_streamed(st, asio::error::broken_pipe);
            return;
        }
        _stream.expires_after(_options.request_deadline);
        if (!st->piece.empty()) {
            asio::async_write(_stream, http::make_chunk(asio::buffer(st->piece)),
                              [self = shared_from_this(), st, more](beast::error_code ec, std::size_t) {
                                  if (ec) {
                                      self->finish_streamed(st, ec);
                                  } else if (more) {
                                      self->next_piece(st);
                                  } else {
                                      self->last_chunk(st);
                                  }
                              });
            return;
        }
        if (more) {
            asio::post(_stream.get_executor(), [self = shared_from_this(), st] { self->next_piece(st); });
            return;
        }
        last_chunk(st);
    }

    void last_chunk(const std::shared_ptr<streamed>& st) {
        asio::async_write(_stream, http::make_chunk_last(),
                          [self = shared_from_this(), st](beast::error_code ec, std::size_t) {
                              self->finish_streamed(st, ec);
                          });
    }

    void finish_streamed(const std::shared_ptr<streamed>& st, beast::error_code ec) {
        --_stats->requests_in_flight;
        _stats->record_duration(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - _started)
                .count()));
        if (ec || !st->header.keep_alive()) {
            close();
            return;
        }
        ++_served;
        wait_for_request();
    }

    void close() {
        beast::error_code ignored;
        _stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        _stream.socket().close(ignored);
    }

    beast::tcp_stream _stream;
    beast::flat_buffer _buffer;
    std::optional<http::request_parser<http::string_body>> _parser;
    const server_options& _options;
    std::shared_ptr<const router> _routes;
    std::shared_ptr<server_stats> _stats;
    std::shared_ptr<server::client_counts> _clients;
    std::string _client;  // the peer's address
    std::uint64_t _served = 0;  // requests answered on this connection
    bool _head_request = false;  // the request in hand is a HEAD: an answer's header only
    std::chrono::steady_clock::time_point _started;  // the request's first byte read
};

// Asks for a time slice of `slice` for the calling thread, its policy (SCHED_OTHER) and nice
// value kept. Needs no privilege; a kernel without custom slices ignores the size.
void request_slice(std::chrono::microseconds slice) {
#ifdef SYS_sched_setattr
    // struct sched_attr as the kernel defines it (its first version, 48 bytes); glibc 2.36 has
    // neither the struct nor a wrapper, and <linux/sched/types.h> clashes with <sched.h>.
    struct {
        std::uint32_t size;
        std::uint32_t sched_policy;
        std::uint64_t sched_flags;
        std::int32_t sched_nice;
        std::uint32_t sched_priority;
        std::uint64_t sched_runtime;
        std::uint64_t sched_deadline;
        std::uint64_t sched_period;
    } attr{};
    static_assert(sizeof attr == 48);
    attr.size = sizeof attr;
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) {
        spdlog::debug("http: sched_getattr failed: {}", std::strerror(errno));
        return;
    }
    if (attr.sched_policy != SCHED_OTHER) return;  // a policy chosen by the operator is theirs
    attr.size = sizeof attr;
    attr.sched_flags = 0;
    attr.sched_runtime = static_cast<std::uint64_t>(std::chrono::nanoseconds(slice).count());
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
        spdlog::debug("http: a {} us time slice refused: {}", slice.count(), std::strerror(errno));
    }
#else
    (void)slice;
#endif
}

result<tcp::endpoint> parse_listen(const std::string& listen) {
    const auto colon = listen.rfind(':');
    auto bad = [&] {
        return failure(errc::bad_listen_address,
                       fmt::format("The listen address '{}' is not HOST:PORT (e.g. 127.0.0.1:8080).", listen),
                       "listen");
    };
    if (colon == std::string::npos || colon == 0) {
        return bad();
    }
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port_text = listen.substr(colon + 1);
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos || std::stoi(port_text) > 65535) {
        return bad();
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    beast::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        return bad();
    }
    return tcp::endpoint(address, static_cast<unsigned short>(std::stoi(port_text)));
}

}  // namespace

const std::error_category& api_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), api_category()}; }

void server_stats::record_duration(std::uint64_t us) noexcept {
    std::size_t i = 0;
    while (i < duration_bounds_us.size() && us > duration_bounds_us[i]) ++i;
    duration_buckets[i].fetch_add(1, std::memory_order_relaxed);
    duration_sum_us.fetch_add(us, std::memory_order_relaxed);
}

std::string server_stats::duration_metrics() const {
    std::string out =
        "# HELP ledger_http_request_duration_seconds Time from a request's first byte read to its answer written.\n"
        "# TYPE ledger_http_request_duration_seconds histogram\n";
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < duration_buckets.size(); ++i) {
        total += duration_buckets[i].load(std::memory_order_relaxed);
        if (i < duration_bounds_us.size()) {
            out += fmt::format("ledger_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                               static_cast<double>(duration_bounds_us[i]) / 1e6, total);
        } else {
            out += fmt::format("ledger_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", total);
        }
    }
    out += fmt::format("ledger_http_request_duration_seconds_sum {}\n",
                       static_cast<double>(duration_sum_us.load(std::memory_order_relaxed)) / 1e6);
    out += fmt::format("ledger_http_request_duration_seconds_count {}\n", total);
    return out;
}

server::server(server_options options, std::shared_ptr<const router> routes)
    : _options(std::move(options)),
      _routes(std::move(routes)),
      _stats(std::make_shared<server_stats>()),
      _ios([n = std::max(1u, _options.threads)] {
          std::vector<std::unique_ptr<asio::io_context>> ios;
          for (unsigned i = 0; i < n; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
          return ios;
      }()),
      _acceptor(asio::make_strand(*_ios.front())) {
    _clients = std::make_shared<client_counts>();
    for (auto& io : _ios) _work.push_back(asio::make_work_guard(*io));
}

server::~server() { stop(std::chrono::milliseconds(0)); }

result<void> server::start() {
    auto endpoint = LEDGER_TRY_VALUE(parse_listen(_options.listen));
    beast::error_code ec;
    auto fail = [&](const char* what) {
        return failure(errc::cannot_listen,
                       fmt::format("Cannot listen on {}: {} failed: {}.", _options.listen, what, ec.message()),
                       "listen");
    };
    if (_acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
    if (_acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail("setsockopt");
    if (_acceptor.bind(endpoint, ec); ec) return fail("bind");
    if (_acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
    accept();
    for (auto& io : _ios) {
        _threads.emplace_back([io = io.get(), slice = _options.io_slice] {
            pthread_setname_np(pthread_self(), "ledger-http");
            if (slice.count() > 0) request_slice(slice);
            io->run();
        });
    }
    return boost::outcome_v2::success();
}

tcp::endpoint server::local_endpoint() const {
    beast::error_code ec;
    return _acceptor.local_endpoint(ec);
}

void server::accept() {
    // Connections go to the I/O threads in turn.
    auto& io = *_ios[_next_io++ % _ios.size()];
    _acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !_acceptor.is_open()) {
            return;
        }
        if (!ec) {
            beast::error_code peer_ec;
            const auto peer = socket.remote_endpoint(peer_ec);
            const std::string client = peer_ec ? std::string("?") : peer.address().to_string();
            // Decided and counted under one lock: the client's count is taken here, returned by
            // the session when it ends.
            std::string refusal;
            {
                std::lock_guard lock(_clients->mu);
                auto& mine = _clients->open[client];
                const auto total = _stats->connections_open.load();
                if (mine >= _options.max_connections_per_client) {
                    refusal = fmt::format("Too many connections from {} ({} open, at most {} per client); close some "
                                          "and try again.",
                                          client, mine, _options.max_connections_per_client);
                    ++_stats->connections_refused_per_client;
                } else if (total >= _options.max_connections ||
                           (total + _options.reserve >= _options.max_connections && mine >= _options.reserve_below)) {
                    refusal = "Too many connections; try again shortly.";
                } else {
                    ++mine;
                }
                if (!refusal.empty() && mine == 0) _clients->open.erase(client);
            }
            if (!refusal.empty()) {
                ++_stats->connections_refused;
                auto res = std::make_shared<response>(error_response(http::status::service_unavailable, refusal));
                auto sock = std::make_shared<tcp::socket>(std::move(socket));
                http::async_write(*sock, *res, [sock, res](beast::error_code, std::size_t) {
                    beast::error_code ignored;
                    sock->shutdown(tcp::socket::shutdown_both, ignored);
                });
            } else {
                std::make_shared<session>(std::move(socket), _options, _routes, _stats, _clients, client)->start();
            }
        }
        accept();
    });
}

void server::stop(std::chrono::milliseconds grace) {
    if (_stopped) {
        return;
    }
    _stopped = true;
    asio::post(_acceptor.get_executor(), [this] {
        beast::error_code ignored;
        _acceptor.close(ignored);
    });
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (_stats->requests_in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    _work.clear();
    for (auto& io : _ios) io->stop();
    for (auto& t : _threads) {
        t.join();
    }
    _threads.clear();
}

}  // namespace ledger::api
