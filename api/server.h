#pragma once
// The HTTP/1.1 server: listener, sessions, limits and deadlines.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/router.h"
#include "events/error.h"

namespace ledger::api {

enum class errc {
    bad_listen_address = 1,  ///< --listen is not HOST:PORT
    cannot_listen,           ///< bind or listen failed (port taken, no permission)
};

const std::error_category& api_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

struct server_options {
    /// Address to listen on, HOST:PORT ([v6]:PORT for IPv6); port 0 picks a free one.
    /// Default: 127.0.0.1:8080.
    std::string listen = "127.0.0.1:8080";
    /// Largest request header accepted; larger gets 431. Default: 8 KiB.
    std::uint32_t header_limit = 8 * 1024;
    /// Largest request body accepted, unless body_limit_for says otherwise; larger gets 413.
    /// Default: 64 KiB.
    std::uint64_t body_limit = 64 * 1024;
    /// Per-request body limit chosen from the header (e.g. larger for batch uploads).
    /// Default: none (body_limit for all).
    std::function<std::uint64_t(const http::request_header<>&)> body_limit_for;
    /// Time from a request's first byte until its header is complete, and from a connection's
    /// opening until its first request begins (a connection that sends nothing is closed then).
    /// Default: 10 s.
    std::chrono::seconds header_deadline{10};
    /// Time to read a body and to write a response. Default: 30 s.
    std::chrono::seconds request_deadline{30};
    /// Time a keep-alive connection may sit idle between requests. Default: 60 s.
    std::chrono::seconds idle_timeout{60};
    /// Connections served at once; more are answered 503 and closed. Default: 1024.
    std::size_t max_connections = 1024;
    /// Connections from one client address at once; more are answered 503 naming the limit, so one
    /// client cannot take every connection. Default: 128.
    std::size_t max_connections_per_client = 128;
    /// The last of max_connections kept for clients with fewer than reserve_below connections:
    /// health checks and other clients still get in while a few addresses hold the rest.
    /// Default: 32, for clients with fewer than 4.
    std::size_t reserve = 32;
    std::size_t reserve_below = 4;
    /// Threads running the I/O. Default: 2.
    unsigned threads = 2;
    /// The time slice the I/O threads ask the scheduler for (Linux 6.12 and later, EEVDF; an
    /// earlier kernel ignores it). A thread with a short slice gets an early deadline, so when a
    /// request wakes it, it runs ahead of a thread that is in the middle of its slice (1.4 ms on
    /// two cores) instead of waiting for the slice to end. 0 keeps the kernel's default.
    /// Default: 100 us, the shortest the kernel takes.
    std::chrono::microseconds io_slice{100};
};

/// Counters the server keeps (for /metrics).
struct server_stats {
    std::atomic<std::uint64_t> connections_open{0};
    std::atomic<std::uint64_t> connections_refused{0};
    std::atomic<std::uint64_t> connections_refused_per_client{0};  ///< of those, for a client over its limit
    std::atomic<std::uint64_t> requests_in_flight{0};
    /// Responses sent, by HTTP status code (100..599).
    std::array<std::atomic<std::uint64_t>, 600> responses_by_status{};

    /// Upper bounds, in microseconds, of the request-duration histogram's buckets (a last,
    /// unbounded bucket follows). A request's duration runs from the server reading its first
    /// byte to the last byte of its answer handed to the kernel.
    static constexpr std::array<std::uint64_t, 12> duration_bounds_us{
        100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 100'000, 500'000, 1'000'000, 5'000'000};
    /// Requests answered, by duration bucket (not cumulative; the last counts the rest).
    std::array<std::atomic<std::uint64_t>, duration_bounds_us.size() + 1> duration_buckets{};
    std::atomic<std::uint64_t> duration_sum_us{0};

    /// Counts one answered request that took `us` microseconds.
    void record_duration(std::uint64_t us) noexcept;
    /// The histogram as Prometheus text: ledger_http_request_duration_seconds.
    [[nodiscard]] std::string duration_metrics() const;
};

class server {
public:
    server(server_options options, std::shared_ptr<const router> routes);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds, listens and starts the I/O threads. Fails with errc::bad_listen_address or
    /// errc::cannot_listen, naming the address.
    [[nodiscard]] result<void> start();
    /// The bound address (useful with port 0).
    [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
    /// Stops accepting, lets requests in flight finish for up to `grace`, then closes everything
    /// and joins the threads. Idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

    [[nodiscard]] const server_stats& stats() const noexcept { return *_stats; }

    /// Connections open from each client address (sessions count themselves in and out).
    struct client_counts;

private:
    void accept();
    std::shared_ptr<client_counts> _clients;

    server_options _options;
    std::shared_ptr<const router> _routes;
    std::shared_ptr<server_stats> _stats;
    /// One io_context per I/O thread: a connection lives on one thread, so its handlers never
    /// wait for a wake-up from another (measured: two threads sharing one io_context spent a
    /// fifth of their time in futex and scheduler wake-ups).
    std::vector<std::unique_ptr<boost::asio::io_context>> _ios;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> _work;
    std::size_t _next_io = 0;
    boost::asio::ip::tcp::acceptor _acceptor;
    std::vector<std::thread> _threads;
    bool _stopped = false;
};

}  // namespace ledger::api

template <>
struct std::is_error_code_enum<ledger::api::errc> : std::true_type {};
