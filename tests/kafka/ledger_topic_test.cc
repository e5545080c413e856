// The ledger topic on the real broker: created with audit-safe settings, unfit topics refused.

#include <catch2/catch.hpp>

#include "producers/ledger_topic.h"
#include "tests/support/kafka.h"

using namespace ledger;

namespace {
producers::topic_options options() {
    producers::topic_options o;
    o.brokers = testing::test_brokers();
    return o;
}
}  // namespace

TEST_CASE("a missing ledger topic is created with one partition and no deletion or compaction") {
    const auto topic = "ledger." + testing::unique_name("create");
    auto first = producers::ensure_ledger_topic(options(), topic);
    REQUIRE(first);
    CHECK(first.value().created);
    CHECK(first.value().partitions == 1);
    CHECK(first.value().replication == 1);  // one broker in the test set-up

    // What the broker itself says, not what we asked for.
    auto described = producers::describe_topic(options(), topic);
    REQUIRE(described);
    const auto& config = described.value().config;
    CHECK(config.at("retention.ms") == "-1");
    CHECK(config.at("retention.bytes") == "-1");
    CHECK(config.at("cleanup.policy") == "delete");
    CHECK(config.at("unclean.leader.election.enable") == "false");

    auto again = producers::ensure_ledger_topic(options(), topic);
    REQUIRE(again);
    CHECK_FALSE(again.value().created);
}

TEST_CASE("an existing topic with a retention limit is refused, naming retention.ms") {
    const auto topic = "ledger." + testing::unique_name("retention");
    REQUIRE(producers::create_topic(options(), topic, 1,
                                    {{"retention.ms", "3600000"}, {"cleanup.policy", "delete"}}));
    auto ensured = producers::ensure_ledger_topic(options(), topic);
    REQUIRE_FALSE(ensured);
    CHECK(ensured.error().code == producers::errc::topic_policy);
    CHECK(ensured.error().field == "retention.ms");
    CHECK_THAT(ensured.error().message, Catch::Contains("retention.ms=3600000"));
}

TEST_CASE("an existing compacted topic is refused, naming cleanup.policy") {
    const auto topic = "ledger." + testing::unique_name("compact");
    REQUIRE(producers::create_topic(options(), topic, 1,
                                    {{"retention.ms", "-1"}, {"retention.bytes", "-1"}, {"cleanup.policy", "compact"}}));
    auto ensured = producers::ensure_ledger_topic(options(), topic);
    REQUIRE_FALSE(ensured);
    CHECK(ensured.error().field == "cleanup.policy");
}

TEST_CASE("an existing topic with three partitions is refused") {
    const auto topic = "ledger." + testing::unique_name("partitions");
    REQUIRE(producers::create_topic(options(), topic, 3, producers::ledger_topic_config(1)));
    auto ensured = producers::ensure_ledger_topic(options(), topic);
    REQUIRE_FALSE(ensured);
    CHECK(ensured.error().field == "partitions");
}

TEST_CASE("unreachable brokers are reported as unavailable, naming --brokers") {
    producers::topic_options o;
    o.brokers = "127.0.0.1:1";
    o.timeout = std::chrono::milliseconds(2000);
    auto ensured = producers::ensure_ledger_topic(o, "ledger.x");
    REQUIRE_FALSE(ensured);
    CHECK(ensured.error().code == producers::errc::kafka_unavailable);
    CHECK(ensured.error().field == "brokers");
}
