#include "producers/ledger_topic.h"

#include <algorithm>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

namespace ledger::producers {
namespace {

// RAII for librdkafka's C handles. The C++ API has no Admin API, so this file uses the C API.
struct kafka_deleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
    void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
    void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
    void operator()(rd_kafka_ConfigResource_t* r) const { rd_kafka_ConfigResource_destroy(r); }
    void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
    void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
template <typename T>
using handle = std::unique_ptr<T, kafka_deleter>;

result<handle<rd_kafka_t>> connect(const topic_options& options) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& name, const std::string& value) -> result<void> {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            return failure(errc::invalid_property, fmt::format("Kafka property {}={}: {}", name, value, err), name);
        }
        return boost::outcome_v2::success();
    };
    auto configure = [&]() -> result<void> {
        LEDGER_TRY(set("bootstrap.servers", options.brokers));
        LEDGER_TRY(set("client.id", "audit-ledger-admin"));
        for (const auto& [name, value] : options.extra) {
            LEDGER_TRY(set(name, value));
        }
        return boost::outcome_v2::success();
    };
    if (auto r = configure(); !r) {
        rd_kafka_conf_destroy(conf);
        return r.error();
    }
    // A producer handle is the usual carrier of admin requests; it never produces here.
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return failure(errc::invalid_property, std::string("Cannot create the Kafka admin client: ") + err);
    }
    return handle<rd_kafka_t>(rk);
}

int timeout_ms(const topic_options& options) { return static_cast<int>(options.timeout.count()); }

struct cluster_view {
    int brokers = 0;
    bool exists = false;
    int partitions = 0;
    int replication = 0;
};

result<cluster_view> read_metadata(rd_kafka_t* rk, const topic_options& options, const std::string& topic) {
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(rk, 1, nullptr, &raw, timeout_ms(options));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return failure(errc::kafka_unavailable,
                       fmt::format("Cannot reach Kafka at {}: {}.", options.brokers, rd_kafka_err2str(err)),
                       "brokers");
    }
    handle<const rd_kafka_metadata_t> md(raw);
    cluster_view view;
    view.brokers = md->broker_cnt;
    for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            view.exists = true;
            view.partitions = t.partition_cnt;
            view.replication = t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0;
        }
    }
    return view;
}

// Runs one admin request on a private queue and returns its result event.
result<handle<rd_kafka_event_t>> wait_result(rd_kafka_queue_t* queue, const topic_options& options,
                                             const char* what) {
    handle<rd_kafka_event_t> ev(rd_kafka_queue_poll(queue, timeout_ms(options) + 1000));
    if (!ev) {
        return failure(errc::kafka_unavailable,
                       fmt::format("Kafka did not answer the {} request at {} in time.", what, options.brokers),
                       "brokers");
    }
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return failure(errc::admin_failed,
                       fmt::format("The {} request failed: {}.", what, rd_kafka_event_error_string(ev.get())));
    }
    return ev;
}

handle<rd_kafka_AdminOptions_t> admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op, const topic_options& options) {
    handle<rd_kafka_AdminOptions_t> o(rd_kafka_AdminOptions_new(rk, op));
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(o.get(), timeout_ms(options), err, sizeof err);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS) {
        rd_kafka_AdminOptions_set_operation_timeout(o.get(), timeout_ms(options), err, sizeof err);
    }
    return o;
}

result<void> create(rd_kafka_t* rk, const topic_options& options, const std::string& topic, int partitions,
                    int replication, const std::map<std::string, std::string>& config) {
    char err[512];
    handle<rd_kafka_NewTopic_t> nt(rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, err, sizeof err));
    if (!nt) {
        return failure(errc::admin_failed, fmt::format("Cannot describe the new topic {}: {}", topic, err));
    }
    for (const auto& [name, value] : config) {
        rd_kafka_NewTopic_set_config(nt.get(), name.c_str(), value.c_str());
    }
    handle<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk));
    auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, options);
    rd_kafka_NewTopic_t* topics[] = {nt.get()};
    rd_kafka_CreateTopics(rk, topics, 1, opts.get(), queue.get());
    auto ev = LEDGER_TRY_VALUE(wait_result(queue.get(), options, "create-topic"));
    const auto* res = rd_kafka_event_CreateTopics_result(ev.get());
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; ++i) {
        const auto code = rd_kafka_topic_result_error(results[i]);
        if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            continue;  // created concurrently by another ledger process; it is checked next
        }
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char* msg = rd_kafka_topic_result_error_string(results[i]);
            return failure(errc::admin_failed,
                           fmt::format("Cannot create topic {}: {}.", topic, msg ? msg : rd_kafka_err2str(code)));
        }
    }
    return boost::outcome_v2::success();
}

result<std::map<std::string, std::string>> describe_config(rd_kafka_t* rk, const topic_options& options,
                                                           const std::string& topic) {
    handle<rd_kafka_ConfigResource_t> resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
    handle<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk));
    auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, options);
    rd_kafka_ConfigResource_t* resources[] = {resource.get()};
    rd_kafka_DescribeConfigs(rk, resources, 1, opts.get(), queue.get());
    auto ev = LEDGER_TRY_VALUE(wait_result(queue.get(), options, "describe-configs"));
    const auto* res = rd_kafka_event_DescribeConfigs_result(ev.get());
    size_t n = 0;
    const rd_kafka_ConfigResource_t** described = rd_kafka_DescribeConfigs_result_resources(res, &n);
    std::map<std::string, std::string> config;
    for (size_t i = 0; i < n; ++i) {
        if (rd_kafka_ConfigResource_error(described[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return failure(errc::admin_failed, fmt::format("Cannot read the configuration of topic {}: {}.", topic,
                                                           rd_kafka_ConfigResource_error_string(described[i])));
        }
        size_t count = 0;
        const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(described[i], &count);
        for (size_t j = 0; j < count; ++j) {
            const char* value = rd_kafka_ConfigEntry_value(entries[j]);
            config[rd_kafka_ConfigEntry_name(entries[j])] = value ? value : "";
        }
    }
    return config;
}

result<topic_description> describe(rd_kafka_t* rk, const topic_options& options, const std::string& topic) {
    auto view = LEDGER_TRY_VALUE(read_metadata(rk, options, topic));
    if (!view.exists) {
        return failure(errc::admin_failed, fmt::format("Topic {} does not exist.", topic));
    }
    topic_description d;
    d.name = topic;
    d.partitions = view.partitions;
    d.replication = view.replication;
    d.config = LEDGER_TRY_VALUE(describe_config(rk, options, topic));
    return d;
}

}  // namespace

std::map<std::string, std::string> ledger_topic_config(int replication) {
    std::map<std::string, std::string> config{
        {"retention.ms", "-1"},
        {"retention.bytes", "-1"},
        {"cleanup.policy", "delete"},
        {"unclean.leader.election.enable", "false"},
    };
    if (replication >= 3) {
        config["min.insync.replicas"] = "2";
    }
    return config;
}

result<void> check_ledger_topic(const topic_description& topic) {
    auto refuse = [&](const std::string& setting, const std::string& why) {
        return failure(errc::topic_policy, fmt::format("Topic {}: {}", topic.name, why), setting);
    };
    if (topic.partitions != 1) {
        return refuse("partitions", fmt::format("it has {} partitions; a ledger needs exactly 1 (one total order, "
                                                "one hash chain).",
                                                topic.partitions));
    }
    auto value = [&](const std::string& name) {
        auto it = topic.config.find(name);
        return it == topic.config.end() ? std::string{} : it->second;
    };
    if (value("retention.ms") != "-1") {
        return refuse("retention.ms", fmt::format("retention.ms={} would delete audit events; the ledger needs "
                                                  "retention.ms=-1.",
                                                  value("retention.ms")));
    }
    if (value("retention.bytes") != "-1") {
        return refuse("retention.bytes", fmt::format("retention.bytes={} would delete audit events; the ledger "
                                                     "needs retention.bytes=-1.",
                                                     value("retention.bytes")));
    }
    if (value("cleanup.policy") != "delete") {
        return refuse("cleanup.policy", fmt::format("cleanup.policy={} would compact away audit events; the ledger "
                                                    "needs cleanup.policy=delete.",
                                                    value("cleanup.policy")));
    }
    if (value("unclean.leader.election.enable") == "true") {
        return refuse("unclean.leader.election.enable",
                      "unclean.leader.election.enable=true could lose acknowledged events; the ledger needs false.");
    }
    return boost::outcome_v2::success();
}

result<void> create_topic(const topic_options& options, const std::string& topic, int partitions,
                          const std::map<std::string, std::string>& config) {
    auto rk = LEDGER_TRY_VALUE(connect(options));
    auto view = LEDGER_TRY_VALUE(read_metadata(rk.get(), options, topic));
    const int replication = std::clamp(view.brokers, 1, 3);
    return create(rk.get(), options, topic, partitions, replication, config);
}

result<topic_description> describe_topic(const topic_options& options, const std::string& topic) {
    auto rk = LEDGER_TRY_VALUE(connect(options));
    return describe(rk.get(), options, topic);
}

result<topic_description> ensure_ledger_topic(const topic_options& options, const std::string& topic) {
    auto rk = LEDGER_TRY_VALUE(connect(options));
    auto view = LEDGER_TRY_VALUE(read_metadata(rk.get(), options, topic));
    bool created = false;
    if (!view.exists) {
        const int replication = std::clamp(view.brokers, 1, 3);
        spdlog::info("creating topic {} (1 partition, replication {})", topic, replication);
        LEDGER_TRY(create(rk.get(), options, topic, 1, replication, ledger_topic_config(replication)));
        created = true;
    }
    // Right after creation the metadata may not list the topic yet: retry within the timeout.
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    auto described = describe(rk.get(), options, topic);
    while (!described && created && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        described = describe(rk.get(), options, topic);
    }
    if (!described) {
        return described.error();
    }
    auto d = std::move(described).value();
    d.created = created;
    LEDGER_TRY(check_ledger_topic(d));
    if (d.replication >= 3) {
        const auto it = d.config.find("min.insync.replicas");
        if (it == d.config.end() || it->second == "1") {
            spdlog::warn("topic {} has replication {} but min.insync.replicas=1: an acknowledged event may sit on "
                         "one replica only; set min.insync.replicas=2",
                         topic, d.replication);
        }
    }
    return d;
}

struct kafka_probe::impl {
    handle<rd_kafka_t> rk;
    topic_options options;
    std::string topic;
    std::chrono::milliseconds every{2000};
    mutable std::mutex mu;
    state current;  // guarded by mu
    std::jthread thread;

    void loop(std::stop_token stop) {
        std::mutex m;
        std::condition_variable_any wake;
        while (!stop.stop_requested()) {
            topic_options o = options;
            o.timeout = every;
            auto view = read_metadata(rk.get(), o, topic);
            {
                std::lock_guard lock(mu);
                const bool up = static_cast<bool>(view);
                if (up != current.up) current.since = std::chrono::system_clock::now();
                current.up = up;
                current.error = up ? std::string() : view.error().message;
                current.topic_exists = up ? view.value().exists : current.topic_exists;
            }
            std::unique_lock lock(m);
            wake.wait_for(lock, stop, every, [&stop] { return stop.stop_requested(); });
        }
    }
};

result<std::unique_ptr<kafka_probe>> kafka_probe::start(const topic_options& options, std::string topic,
                                                        std::chrono::milliseconds every) {
    auto i = std::make_unique<impl>();
    // Its failures are what it reports (health, metrics): librdkafka's own log of each refused
    // connection would repeat what the producer and consumer already log.
    auto quiet = options;
    quiet.extra["log_level"] = "2";
    i->rk = LEDGER_TRY_VALUE(connect(quiet));
    i->options = options;
    i->topic = std::move(topic);
    i->every = every;
    auto* raw = i.get();
    i->thread = std::jthread([raw](std::stop_token st) { raw->loop(st); });
    return std::unique_ptr<kafka_probe>(new kafka_probe(std::move(i)));
}

kafka_probe::kafka_probe(std::unique_ptr<impl> i) : _impl(std::move(i)) {}

kafka_probe::~kafka_probe() {
    _impl->thread.request_stop();
    if (_impl->thread.joinable()) _impl->thread.join();
}

kafka_probe::state kafka_probe::current() const {
    std::lock_guard lock(_impl->mu);
    return _impl->current;
}

}  // namespace ledger::producers
