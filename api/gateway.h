#pragma once
// The ingest gateway's core, without HTTP: validated events in, Kafka coordinates out, each id
// recorded once. See docs/idempotency.md for the design.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "events/error.h"
#include "events/event.h"
#include "events/ids.h"
#include "producers/producer.h"

namespace ledger::api {

enum class append_status {
    created,      ///< recorded now (HTTP 201)
    duplicate,    ///< the same id with identical content was recorded before (HTTP 200, original coordinates)
    conflict,     ///< the same id was recorded with other content (HTTP 409)
    unavailable,  ///< Kafka did not acknowledge; nothing is acknowledged (HTTP 503)
};

struct append_outcome {
    append_status status = append_status::unavailable;
    ledger_coordinates coordinates;  ///< for created, duplicate and conflict (the original)
    std::string recorded_at;         ///< for created and duplicate
    std::string message;             ///< for conflict and unavailable
    /// unavailable after the record was handed to Kafka: it may be in the log (retry, same id).
    bool outcome_unknown = false;
};

struct gateway_options {
    /// Kafka bootstrap servers. Default: 127.0.0.1:9092.
    std::string brokers = "127.0.0.1:9092";
    /// The ledger topic. Default: ledger.main.
    std::string topic = "ledger.main";
    /// How long Kafka may take to acknowledge one event before the answer is 503. Default: 10 s.
    std::chrono::milliseconds message_timeout{10'000};
    /// The producer's linger.ms. Default: 1 ms.
    std::chrono::milliseconds linger{1};
    /// How long a retry of an id whose earlier attempt ended uncertain may wait for the index to
    /// catch up with the log before the answer is 503. Default: 15 s.
    std::chrono::milliseconds uncertain_wait{15'000};
    /// How long start() may take to index the existing log. Default: 10 min.
    std::chrono::milliseconds catch_up_timeout{600'000};
    /// Fault injection for tests: exit the process right after Kafka acknowledges an event,
    /// before answering (LEDGER_FAULT=exit_after_ack). Default: off.
    bool exit_after_ack = false;
};

/// What the gateway has done since it started, for /metrics.
struct gateway_stats {
    std::atomic<std::uint64_t> created{0}, duplicate{0}, conflict{0}, unavailable{0};  ///< answers
    std::atomic<std::uint64_t> index_hits{0};      ///< answered from the id index (a retry, no append)
    std::atomic<std::uint64_t> in_flight_joins{0};  ///< joined an append of the same id in flight
    std::atomic<std::uint64_t> uncertain_waits{0};  ///< waited for the log after an uncertain attempt
    /// Delivery-report latency (Kafka's acknowledgement, or its failure), from the append.
    static constexpr std::array<double, 12> bounds{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5, 10};
    std::array<std::atomic<std::uint64_t>, bounds.size() + 1> delivery_buckets{};
    std::atomic<std::uint64_t> delivery_count{0};
    std::atomic<std::uint64_t> delivery_micros_sum{0};

    void delivered(std::chrono::steady_clock::duration took);
    /// The Prometheus text of all of these.
    [[nodiscard]] std::string metrics() const;
};

/// Thread safety: submit() may be called from any thread; completions run on Kafka's delivery
/// thread or the index thread and must not block.
class gateway {
public:
    using completion = std::function<void(append_outcome)>;

    /// Creates the producer and indexes the ids already in the log (reading it from offset 0)
    /// before returning, so that a retry after a restart finds its original.
    [[nodiscard]] static result<std::unique_ptr<gateway>> start(const gateway_options& options);
    ~gateway();
    gateway(const gateway&) = delete;
    gateway& operator=(const gateway&) = delete;

    /// Records `ev` (already validated) as posted by `producer`; `done` is called exactly once.
    void submit(const events::event& ev, const std::string& producer, completion done);

    [[nodiscard]] const gateway_stats& stats() const { return _stats; }

    /// What submit() would answer for `ev` from what the gateway knows now (a dry run): the
    /// original's duplicate or conflict outcome, or nullopt (it would be appended). Writes nothing.
    [[nodiscard]] std::optional<append_outcome> peek(const events::event& ev) const;

private:
    struct indexed {
        events::sha256_digest fingerprint;
        std::int64_t offset;
        std::string recorded_at;
    };
    struct in_flight {
        events::sha256_digest fingerprint;
        std::vector<completion> waiters;  // the first is the original request
    };
    struct deferred {
        nlohmann::json posted;
        std::string id;
        events::sha256_digest fingerprint;
        std::string producer;
        completion done;
        std::uint64_t ready_at_generation;
        std::chrono::steady_clock::time_point deadline;
    };
    struct append_request {
        std::string id;
        std::string bytes;
        events::sha256_digest fingerprint;
        std::string recorded_at;
        std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    };
    using thunks = std::vector<std::function<void()>>;

    explicit gateway(gateway_options options);
    // Decides what to do with one request; called with _mu held. Fills `out` with completions to
    // run and returns an append to start, both after the lock is released.
    std::optional<append_request> decide(const std::string& id, const events::sha256_digest& fp,
                                         const nlohmann::json& posted, const std::string& producer, completion done,
                                         thunks& out);
    void start_append(append_request req);
    void on_delivered(const append_request& req, result<ledger_coordinates> r);
    void index_loop(std::stop_token stop);
    void index_record(std::int64_t offset, const std::string& key, const std::string& payload);
    void release_deferred(bool all_expired_only, thunks& out);
    append_outcome outcome_for(const std::string& id, const indexed& entry, const events::sha256_digest& fp) const;

    gateway_options _options;
    gateway_stats _stats;
    std::unique_ptr<producers::producer> _producer;  // rebuilds its handle after a fatal error

    mutable std::mutex _mu;
    std::condition_variable _caught_up_cv;
    bool _caught_up = false;
    std::unordered_map<std::string, indexed> _index;
    std::unordered_map<std::string, in_flight> _in_flight;
    std::unordered_set<std::string> _uncertain;
    std::vector<deferred> _deferred;
    std::uint64_t _eof_generation = 0;
    std::int64_t _indexed_through = -1;

    std::jthread _indexer;
};

}  // namespace ledger::api
