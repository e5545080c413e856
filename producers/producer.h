#pragma once
// A durable Kafka producer: idempotent, acks=all, completion from the delivery report only.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "events/error.h"
#include "events/ids.h"
#include "producers/kafka_properties.h"

namespace RdKafka {
class Producer;
}

namespace ledger::producers {

struct producer_options {
    /// Kafka bootstrap servers. Default: 127.0.0.1:9092.
    std::string brokers = "127.0.0.1:9092";
    /// How long librdkafka keeps trying to deliver one record before the append fails.
    /// Bounded so that a caller always gets an answer. Default: 10 s.
    std::chrono::milliseconds message_timeout{10'000};
    /// How long a record may wait to be batched with others. Default: 2 ms.
    std::chrono::milliseconds linger{1};
    /// Extra librdkafka properties. Anything that weakens idempotence or acks=all is refused.
    /// Default: none.
    kafka_properties extra;
};

/// Thread safety: append() and flush() may be called from any thread. Completions run on the
/// producer's own delivery thread; they must not block.
///
/// After a fatal librdkafka error (e.g. an idempotence sequence broken beyond repair) the next
/// append replaces the librdkafka handle with a fresh one; records queued on the broken handle
/// fail their completions (nothing of theirs was acknowledged).
class producer {
public:
    using completion = std::function<void(result<ledger_coordinates>)>;

    /// Fails with errc::weakened_durability naming the property when `extra` sets
    /// enable.idempotence other than true or acks other than all/-1; errc::invalid_property
    /// when librdkafka rejects a property.
    [[nodiscard]] static result<std::unique_ptr<producer>> create(const producer_options& options);

    producer(const producer&) = delete;
    producer& operator=(const producer&) = delete;
    /// Flushes for up to the message timeout, logs what is still queued, then stops.
    ~producer();

    /// Appends `payload` to partition 0 of `topic`. `done` is called exactly once: with the
    /// coordinates when every in-sync replica has the record, or with an error (nothing was
    /// acknowledged). After a fatal producer error every append fails with errc::kafka_fatal.
    void append(const std::string& topic, std::string_view key, std::string_view payload, completion done);

    /// append() that waits for the delivery report.
    [[nodiscard]] result<ledger_coordinates> append_and_wait(const std::string& topic, std::string_view key,
                                                             std::string_view payload);

    /// Waits up to `deadline` for every queued record; returns how many are still queued.
    int flush(std::chrono::milliseconds deadline);

    /// True while the current handle has hit a fatal error (until the next append rebuilds it).
    [[nodiscard]] bool fatal() const;
    /// How many times the handle was rebuilt after a fatal error.
    [[nodiscard]] int rebuilds() const;
    /// Raises a fatal error on the current handle, as librdkafka would (rd_kafka_test_fatal_error).
    /// For tests.
    void raise_fatal_for_test();

    /// The effective value of a librdkafka property (for checks and logs).
    [[nodiscard]] std::string property(const std::string& name) const;

private:
    struct callbacks;
    struct client;  // one librdkafka handle and its callbacks
    static result<std::shared_ptr<client>> connect(const producer_options& options);
    producer(std::shared_ptr<client> c, producer_options options);
    std::shared_ptr<client> current() const;
    std::shared_ptr<client> rebuild(const std::shared_ptr<client>& broken);
    void poll_loop(std::stop_token stop);

    producer_options _options;
    mutable std::mutex _mu;
    std::shared_ptr<client> _client;  // guarded by _mu
    int _rebuilds = 0;                // guarded by _mu
    std::jthread _poller;
};

/// Checks that `extra` keeps idempotence and acks=all; returns the offending property otherwise.
[[nodiscard]] result<void> check_durability(const kafka_properties& extra);

}  // namespace ledger::producers
