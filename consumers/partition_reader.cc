#include "consumers/partition_reader.h"

#include <atomic>

#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "events/log_limit.h"

namespace ledger::consumers {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.consumers"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::kafka_unavailable: return "Kafka is unavailable";
            case errc::kafka_fatal: return "fatal Kafka consumer error";
            case errc::offset_out_of_range: return "offset out of range";
            case errc::invalid_property: return "invalid Kafka property";
        }
        return "unknown consumers error";
    }
};

// librdkafka's own logs and errors, through spdlog like everything else. Errors repeat every
// second while a broker is down: each kind is logged once a minute, the rest at debug level.
class kafka_events final : public RdKafka::EventCb {
public:
    void event_cb(RdKafka::Event& event) override {
        std::size_t held = 0;
        switch (event.type()) {
            case RdKafka::Event::EVENT_ERROR:
                if (event.fatal()) {
                    spdlog::critical("kafka consumer: {}", event.str());
                } else if (events::kafka_log_limiter().admit("consumer " + RdKafka::err2str(event.err()), held)) {
                    spdlog::warn("kafka consumer: {}{}", event.str(),
                                 held == 0 ? std::string() : fmt::format(" [{} more like it in the last minute]", held));
                } else {
                    spdlog::debug("kafka consumer: {}", event.str());
                }
                break;
            case RdKafka::Event::EVENT_LOG:
                if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_ERROR) {
                    spdlog::debug("kafka consumer {}: {}", event.fac(), event.str());
                }
                break;
            default:
                break;
        }
    }
};

kafka_events& shared_events() {
    static kafka_events instance;
    return instance;
}

}  // namespace

const std::error_category& consumers_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), consumers_category()}; }

result<std::unique_ptr<partition_reader>> partition_reader::open(const reader_options& options,
                                                                 const std::string& topic, ledger_offset start) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    auto set = [&](const std::string& name, const std::string& value) -> result<void> {
        if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) {
            return failure(errc::invalid_property, fmt::format("Kafka property {}={}: {}", name, value, err), name);
        }
        return boost::outcome_v2::success();
    };
    LEDGER_TRY(set("bootstrap.servers", options.brokers));
    LEDGER_TRY(set("client.id", "audit-ledger-reader"));
    // librdkafka's KafkaConsumer wants a group id; it is never used for commits or subscriptions.
    LEDGER_TRY(set("group.id", "audit-ledger-reader"));
    LEDGER_TRY(set("enable.auto.commit", "false"));
    LEDGER_TRY(set("enable.auto.offset.store", "false"));
    LEDGER_TRY(set("auto.offset.reset", "error"));
    LEDGER_TRY(set("enable.partition.eof", "true"));
    // Only committed (acknowledged) records are read; idempotent producers need no more.
    LEDGER_TRY(set("isolation.level", "read_committed"));
    // One partition: the default 1 MiB per fetch capped a replay at ~105k events/s (a round
    // trip per ~2,300 records); 16 MiB measured 110-117k/s on the same 1M-event topic.
    LEDGER_TRY(set("max.partition.fetch.bytes", "16777216"));
    // Fetch ahead while fewer than this many records are waiting (default 100,000). Once the
    // queue holds more, librdkafka 2.0 looks at it again only a second later (its
    // fetch.queue.backoff.ms, 2.4 and later, is fixed at 1 s here): a queue that the projector
    // empties in less than a second runs dry, and the reading thread waits for the next fetch.
    // At 100,000 a replay waited 15 ms about once every 25,000 records (126k -> 142k events/s
    // at 200,000); at 200,000, replays that went faster than 200,000 events/s waited 90-250 ms
    // one to three times per 1M records and stayed near 205k. 400,000 records (at most 256 MiB
    // of payload) is two seconds of what the projector applies: 192-237k events/s, median
    // 228k, against 198-208k, median 205k, in alternating replays (docs/benchmarks.md), for
    // about 110 MB more memory while catching up.
    LEDGER_TRY(set("queued.min.messages", "400000"));
    LEDGER_TRY(set("queued.max.messages.kbytes", "262144"));
    for (const auto& [name, value] : options.extra) {
        LEDGER_TRY(set(name, value));
    }
    if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(&shared_events()), err) != RdKafka::Conf::CONF_OK) {
        return failure(errc::invalid_property, "Cannot install the consumer's event callback: " + err);
    }
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer) {
        return failure(errc::invalid_property, "Cannot create the Kafka consumer: " + err);
    }
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0, start.value()));
    std::vector<RdKafka::TopicPartition*> partitions{tp.get()};
    if (const auto code = consumer->assign(partitions); code != RdKafka::ERR_NO_ERROR) {
        return failure(errc::kafka_unavailable,
                       fmt::format("Cannot assign {} partition 0: {}.", topic, RdKafka::err2str(code)));
    }
    return std::unique_ptr<partition_reader>(new partition_reader(std::move(consumer), topic));
}

partition_reader::partition_reader(std::unique_ptr<RdKafka::KafkaConsumer> c, std::string topic)
    : _kafka(std::move(c)), _topic(std::move(topic)) {}

result<std::pair<ledger_offset, ledger_offset>> partition_reader::watermarks(std::chrono::milliseconds timeout) {
    int64_t low = 0;
    int64_t high = 0;
    const auto err = _kafka->query_watermark_offsets(_topic, 0, &low, &high, static_cast<int>(timeout.count()));
    if (err != RdKafka::ERR_NO_ERROR) {
        return failure(errc::kafka_unavailable,
                       fmt::format("Cannot read the offsets of {}: {}.", _topic, RdKafka::err2str(err)));
    }
    return std::pair{ledger_offset{low}, ledger_offset{high}};
}

result<ledger_offset> partition_reader::high_watermark(std::chrono::milliseconds timeout) {
    auto w = LEDGER_TRY_VALUE(watermarks(timeout));
    return w.second;
}

partition_reader::~partition_reader() {
    if (_kafka) {
        _kafka->close();
    }
}

result<poll_result> partition_reader::poll(std::chrono::milliseconds timeout) {
    std::unique_ptr<RdKafka::Message> m(_kafka->consume(static_cast<int>(timeout.count())));
    switch (m->err()) {
        case RdKafka::ERR_NO_ERROR:
            // key_pointer(), not key(): key() first copies the key into a string of its own.
            return poll_result{record{ledger_offset{m->offset()},
                                      m->key_pointer() ? std::string(static_cast<const char*>(m->key_pointer()), m->key_len())
                                                       : std::string{},
                                      std::string(static_cast<const char*>(m->payload()), m->len()),
                                      m->timestamp().timestamp}};
        case RdKafka::ERR__TIMED_OUT:
            return poll_result{timed_out{}};
        case RdKafka::ERR__PARTITION_EOF:
            return poll_result{end_of_partition{ledger_offset{m->offset()}}};
        case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
        case RdKafka::ERR__AUTO_OFFSET_RESET:
            return failure(errc::offset_out_of_range,
                           fmt::format("The wanted offset is not in the log: {}.", m->errstr()));
        case RdKafka::ERR__FATAL:
            return failure(errc::kafka_fatal, fmt::format("Fatal Kafka consumer error: {}.", m->errstr()));
        default:
            // Transient (broker down, leader moving): librdkafka retries on its own.
            spdlog::warn("kafka consumer: {}", m->errstr());
            return poll_result{timed_out{}};
    }
}

}  // namespace ledger::consumers
