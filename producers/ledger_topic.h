#pragma once
// Makes sure a ledger's Kafka topic exists and can never lose audit data.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "events/error.h"
#include "producers/kafka_properties.h"

namespace ledger::producers {

struct topic_options {
    /// Kafka bootstrap servers. Default: 127.0.0.1:9092.
    std::string brokers = "127.0.0.1:9092";
    /// Deadline for each admin request. Default: 30 s.
    std::chrono::milliseconds timeout{30'000};
    /// Extra librdkafka properties for the admin client (security settings). Default: none.
    kafka_properties extra;
};

struct topic_description {
    std::string name;
    int partitions = 0;
    int replication = 0;
    bool created = false;                       ///< this call created it
    std::map<std::string, std::string> config;  ///< the topic's effective configuration
};

/// The settings a ledger topic is created with, for `replication` replicas:
/// retention.ms=-1, retention.bytes=-1, cleanup.policy=delete,
/// unclean.leader.election.enable=false, and min.insync.replicas=2 when replication >= 3.
[[nodiscard]] std::map<std::string, std::string> ledger_topic_config(int replication);

/// Checks an existing topic against the ledger's needs: exactly one partition, no retention
/// limit, no compaction, no unclean leader election. The error names the offending setting.
[[nodiscard]] result<void> check_ledger_topic(const topic_description& topic);

/// Creates `topic` if missing (one partition, replication min(3, brokers), ledger_topic_config)
/// and then checks it with check_ledger_topic(). Fails with errc::kafka_unavailable when the
/// brokers cannot be reached within the timeout, errc::topic_policy when the topic is unfit.
[[nodiscard]] result<topic_description> ensure_ledger_topic(const topic_options& options, const std::string& topic);

/// Creates `topic` with `partitions` and `config` as given, no checks (for tools and tests).
[[nodiscard]] result<void> create_topic(const topic_options& options, const std::string& topic, int partitions,
                                        const std::map<std::string, std::string>& config);

/// Describes `topic`; fails with errc::admin_failed if it does not exist.
[[nodiscard]] result<topic_description> describe_topic(const topic_options& options, const std::string& topic);

/// Watches whether the brokers answer, for health: a metadata request for `topic` every
/// `every` (each with `every` as its deadline) on a thread and a client of its own.
class kafka_probe {
public:
    struct state {
        bool up = true;         ///< the last request was answered
        bool topic_exists = true;
        std::string error;      ///< why the last request failed
        std::chrono::system_clock::time_point since = std::chrono::system_clock::now();  ///< of `up`
    };
    [[nodiscard]] static result<std::unique_ptr<kafka_probe>> start(const topic_options& options, std::string topic,
                                                                    std::chrono::milliseconds every =
                                                                        std::chrono::milliseconds(2000));
    ~kafka_probe();
    [[nodiscard]] state current() const;

private:
    struct impl;
    explicit kafka_probe(std::unique_ptr<impl> i);
    std::unique_ptr<impl> _impl;
};

}  // namespace ledger::producers
