#pragma once
// The read API of interface.md (scope `read` or `admin`): entities with as_of, trails,
// findings, timeline, verify; every read takes min_offset=N (wait up to 10 s for the read
// models to apply offset N, else 504). Also GET /metrics (Prometheus text, no token).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/router.h"
#include "api/tokens.h"
#include "consumers/projector_runner.h"
#include "projections/store.h"

namespace ledger::api {

struct read_options {
    /// How long min_offset may wait. Default: 10 s.
    std::chrono::milliseconds min_offset_wait{10'000};
    /// Kafka brokers, for GET /v1/verify (recomputes the chain from Kafka). Default: none (the
    /// chain is then checked against the read models' own copy of the log).
    std::string brokers;
};

/// Whatever serves reads: the data directory and the projector keeping it current (may be null
/// for a static directory).
struct read_source {
    std::shared_ptr<projections::store> store;
    std::shared_ptr<consumers::projector_runner> runner;
};

/// Registers the read routes. `extra_metrics` appends lines to GET /metrics (e.g. HTTP counts).
void add_read_routes(router& routes, read_source source, std::shared_ptr<const token_store> tokens,
                     read_options options, std::function<std::string()> extra_metrics = {});

/// Parses a query time (RFC 3339 with offset) into µs; nullopt when malformed.
[[nodiscard]] std::optional<std::int64_t> parse_query_time(const std::string& text);

}  // namespace ledger::api
