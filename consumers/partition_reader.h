#pragma once
// Reads partition 0 of one topic from a given offset, in order.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "events/error.h"
#include "events/ids.h"
#include <map>

namespace RdKafka {
class KafkaConsumer;
}

namespace ledger::consumers {

enum class errc {
    kafka_unavailable = 1,  ///< cannot reach the brokers
    kafka_fatal,            ///< a fatal consumer error: stop and exit non-zero
    offset_out_of_range,    ///< the wanted offset is not in the log (deleted or never written)
    invalid_property,       ///< librdkafka rejected a property
};

const std::error_category& consumers_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

struct reader_options {
    /// Kafka bootstrap servers. Default: 127.0.0.1:9092.
    std::string brokers = "127.0.0.1:9092";
    /// Extra librdkafka properties (security settings). Default: none.
    std::map<std::string, std::string> extra;
};

/// One Kafka record as read.
struct record {
    ledger_offset offset{0};
    std::string key;
    std::string payload;
    std::int64_t timestamp_ms = 0;  ///< the broker's timestamp of the record
};
struct timed_out {};
struct end_of_partition {
    ledger_offset next{0};  ///< the offset the next record will have
};

using poll_result = std::variant<record, timed_out, end_of_partition>;

/// Not thread safe: one thread reads.
class partition_reader {
public:
    /// Assigns partition 0 of `topic` starting at `start`.
    [[nodiscard]] static result<std::unique_ptr<partition_reader>> open(const reader_options& options,
                                                                        const std::string& topic, ledger_offset start);
    ~partition_reader();
    partition_reader(const partition_reader&) = delete;
    partition_reader& operator=(const partition_reader&) = delete;

    /// The next record, or timed_out after `timeout`, or end_of_partition each time the reader
    /// catches up with the end of the log. Errors: kafka_fatal, offset_out_of_range.
    [[nodiscard]] result<poll_result> poll(std::chrono::milliseconds timeout);

    /// Asks the broker for the partition's high watermark: the offset the next record will get.
    /// Fails with errc::kafka_unavailable when the broker does not answer within `timeout`.
    [[nodiscard]] result<ledger_offset> high_watermark(std::chrono::milliseconds timeout);
    /// The first offset still in the log (after deletions) and the high watermark.
    [[nodiscard]] result<std::pair<ledger_offset, ledger_offset>> watermarks(std::chrono::milliseconds timeout);

private:
    partition_reader(std::unique_ptr<RdKafka::KafkaConsumer> c, std::string topic);
    std::unique_ptr<RdKafka::KafkaConsumer> _kafka;
    std::string _topic;
};

}  // namespace ledger::consumers

template <>
struct std::is_error_code_enum<ledger::consumers::errc> : std::true_type {};
