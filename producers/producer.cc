#include "producers/producer.h"

#include <future>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "events/log_limit.h"

namespace ledger::producers {

struct producer::callbacks final : RdKafka::DeliveryReportCb, RdKafka::EventCb {
    std::atomic<bool> fatal{false};
    std::string fatal_reason;  // written once, before `fatal` is set

    void dr_cb(RdKafka::Message& message) override {
        std::unique_ptr<completion> done(static_cast<completion*>(message.msg_opaque()));
        if (!done) {
            return;
        }
        if (message.err() != RdKafka::ERR_NO_ERROR) {
            (*done)(failure(errc::delivery_failed,
                            fmt::format("Kafka did not acknowledge the record: {}.", RdKafka::err2str(message.err()))));
            return;
        }
        (*done)(ledger_coordinates{message.topic_name(), message.partition(), ledger_offset{message.offset()}});
    }

    void event_cb(RdKafka::Event& event) override {
        std::size_t held = 0;
        switch (event.type()) {
            case RdKafka::Event::EVENT_ERROR:
                if (event.fatal()) {
                    if (!fatal.exchange(true)) {
                        spdlog::critical("kafka producer fatal error: {}", event.str());
                    }
                } else if (events::kafka_log_limiter().admit("error " + RdKafka::err2str(event.err()), held)) {
                    spdlog::warn("kafka: {} ({}){}", event.str(), RdKafka::err2str(event.err()), held_note(held));
                } else {
                    spdlog::debug("kafka: {} ({})", event.str(), RdKafka::err2str(event.err()));
                }
                break;
            case RdKafka::Event::EVENT_LOG:
                // A connection failure comes as a FAIL log and as an error: the error tells it.
                if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING && event.fac() != "FAIL" &&
                    events::kafka_log_limiter().admit("log " + event.fac(), held)) {
                    spdlog::warn("kafka {}: {}{}", event.fac(), event.str(), held_note(held));
                } else {
                    spdlog::debug("kafka {}: {}", event.fac(), event.str());
                }
                break;
            default:
                break;
        }
    }

    static std::string held_note(std::size_t held) {
        return held == 0 ? std::string() : fmt::format(" [{} more like it in the last minute]", held);
    }
};

result<void> check_durability(const kafka_properties& extra) {
    if (auto it = extra.find("enable.idempotence"); it != extra.end() && it->second != "true") {
        return failure(errc::weakened_durability,
                       fmt::format("enable.idempotence={} would let a retried record be written twice; "
                                   "the ledger needs enable.idempotence=true.",
                                   it->second),
                       "enable.idempotence");
    }
    for (const char* name : {"acks", "request.required.acks"}) {
        if (auto it = extra.find(name); it != extra.end() && it->second != "all" && it->second != "-1") {
            return failure(errc::weakened_durability,
                           fmt::format("{}={} would acknowledge a record before every in-sync replica has it; "
                                       "the ledger needs {}=all.",
                                       name, it->second, name),
                           name);
        }
    }
    return boost::outcome_v2::success();
}

namespace {

result<void> set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
    std::string err;
    if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK) {
        return failure(errc::invalid_property, fmt::format("Kafka property {}={}: {}", name, value, err), name);
    }
    return boost::outcome_v2::success();
}

}  // namespace

struct producer::client {
    std::unique_ptr<callbacks> cb;  // outlives kafka
    std::unique_ptr<RdKafka::Producer> kafka;
    ~client() {
        // Whatever is still queued fails its completion now: it was never acknowledged.
        kafka->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
        kafka->poll(0);
        kafka.reset();
    }
};

result<std::shared_ptr<producer::client>> producer::connect(const producer_options& options) {
    auto cb = std::make_unique<callbacks>();
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    LEDGER_TRY(set(*conf, "bootstrap.servers", options.brokers));
    LEDGER_TRY(set(*conf, "client.id", "audit-ledger"));
    LEDGER_TRY(set(*conf, "message.timeout.ms", std::to_string(options.message_timeout.count())));
    LEDGER_TRY(set(*conf, "linger.ms", std::to_string(options.linger.count())));
    for (const auto& [name, value] : options.extra) {
        LEDGER_TRY(set(*conf, name, value));
    }
    // Set last so that nothing above can override them.
    LEDGER_TRY(set(*conf, "enable.idempotence", "true"));
    LEDGER_TRY(set(*conf, "acks", "all"));
    std::string err;
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(cb.get()), err) != RdKafka::Conf::CONF_OK ||
        conf->set("event_cb", static_cast<RdKafka::EventCb*>(cb.get()), err) != RdKafka::Conf::CONF_OK) {
        return failure(errc::invalid_property, "Cannot install the producer callbacks: " + err);
    }
    std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
    if (!p) {
        return failure(errc::invalid_property, "Cannot create the Kafka producer: " + err);
    }
    auto c = std::make_shared<client>();
    c->cb = std::move(cb);
    c->kafka = std::move(p);
    return c;
}

result<std::unique_ptr<producer>> producer::create(const producer_options& options) {
    LEDGER_TRY(check_durability(options.extra));
    auto c = LEDGER_TRY_VALUE(connect(options));
    return std::unique_ptr<producer>(new producer(std::move(c), options));
}

producer::producer(std::shared_ptr<client> c, producer_options options)
    : _options(std::move(options)), _client(std::move(c)) {
    _poller = std::jthread([this](std::stop_token stop) { poll_loop(stop); });
}

producer::~producer() {
    const int left = flush(_options.message_timeout);
    if (left > 0) {
        spdlog::error("kafka producer stopping with {} record(s) not acknowledged", left);
    }
    _poller.request_stop();
    _poller.join();
    std::lock_guard lock(_mu);
    _client.reset();  // purges and fails whatever is left
}

std::shared_ptr<producer::client> producer::current() const {
    std::lock_guard lock(_mu);
    return _client;
}

std::shared_ptr<producer::client> producer::rebuild(const std::shared_ptr<client>& broken) {
    std::lock_guard lock(_mu);
    if (_client != broken) {
        return _client;  // another thread rebuilt it already
    }
    auto fresh = connect(_options);
    if (!fresh) {
        spdlog::error("kafka producer: cannot rebuild after a fatal error: {}", fresh.error().message);
        return broken;
    }
    _client = std::move(fresh).value();
    ++_rebuilds;
    spdlog::warn("kafka producer rebuilt after a fatal error");
    return _client;
}

void producer::poll_loop(std::stop_token stop) {
    while (!stop.stop_requested()) {
        current()->kafka->poll(50);
    }
}

void producer::append(const std::string& topic, std::string_view key, std::string_view payload, completion done) {
    auto c = current();
    if (c->cb->fatal.load()) {
        c = rebuild(c);
        if (c->cb->fatal.load()) {
            done(failure(errc::kafka_fatal, "The Kafka producer hit a fatal error and could not be rebuilt."));
            return;
        }
    }
    auto* opaque = new completion(std::move(done));
    const auto err = c->kafka->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(payload.data()),
                                       payload.size(), key.data(), key.size(), 0, opaque);
    if (err != RdKafka::ERR_NO_ERROR) {
        std::unique_ptr<completion> owned(opaque);
        const auto code = err == RdKafka::ERR__QUEUE_FULL ? errc::kafka_unavailable : errc::delivery_failed;
        (*owned)(failure(code, fmt::format("Kafka refused the record: {}.", RdKafka::err2str(err))));
    }
}

result<ledger_coordinates> producer::append_and_wait(const std::string& topic, std::string_view key,
                                                     std::string_view payload) {
    std::promise<result<ledger_coordinates>> promise;
    auto future = promise.get_future();
    append(topic, key, payload, [&promise](result<ledger_coordinates> r) { promise.set_value(std::move(r)); });
    return future.get();
}

int producer::flush(std::chrono::milliseconds deadline) {
    auto c = current();
    c->kafka->flush(static_cast<int>(deadline.count()));
    return c->kafka->outq_len();
}

bool producer::fatal() const { return current()->cb->fatal.load(); }

int producer::rebuilds() const {
    std::lock_guard lock(_mu);
    return _rebuilds;
}

void producer::raise_fatal_for_test() {
    rd_kafka_test_fatal_error(current()->kafka->c_ptr(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              "raised by a test");
}

std::string producer::property(const std::string& name) const {
    // The C++ API exposes no getter on a live handle; the C handle has the effective config.
    std::string value;
    char buf[512];
    size_t size = sizeof buf;
    const rd_kafka_conf_t* conf = rd_kafka_conf(current()->kafka->c_ptr());
    if (rd_kafka_conf_get(conf, name.c_str(), buf, &size) == RD_KAFKA_CONF_OK) {
        value.assign(buf, size > 0 ? size - 1 : 0);
    }
    return value;
}

}  // namespace ledger::producers
