#include <catch2/catch.hpp>

#include "producers/ledger_topic.h"
#include "producers/producer.h"

using namespace ledger::producers;

TEST_CASE("producer settings that weaken durability are refused, naming the property") {
    struct row {
        kafka_properties extra;
        std::string field;
    };
    const auto r = GENERATE(row{{{"enable.idempotence", "false"}}, "enable.idempotence"},
                            row{{{"acks", "1"}}, "acks"}, row{{{"acks", "0"}}, "acks"},
                            row{{{"request.required.acks", "1"}}, "request.required.acks"});
    auto checked = check_durability(r.extra);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == errc::weakened_durability);
    CHECK(checked.error().field == r.field);
    auto created = producer::create(producer_options{"127.0.0.1:1", std::chrono::milliseconds(1000), {}, r.extra});
    REQUIRE_FALSE(created);
    CHECK(created.error().field == r.field);
}

TEST_CASE("settings that keep durability are accepted") {
    CHECK(check_durability({}));
    CHECK(check_durability({{"acks", "all"}, {"enable.idempotence", "true"}}));
    CHECK(check_durability({{"acks", "-1"}, {"compression.type", "lz4"}}));
}

TEST_CASE("ledger topics are created with settings that keep audit data") {
    auto single = ledger_topic_config(1);
    CHECK(single.at("retention.ms") == "-1");
    CHECK(single.at("retention.bytes") == "-1");
    CHECK(single.at("cleanup.policy") == "delete");
    CHECK(single.at("unclean.leader.election.enable") == "false");
    CHECK(single.count("min.insync.replicas") == 0);
    CHECK(ledger_topic_config(3).at("min.insync.replicas") == "2");
}

TEST_CASE("an existing topic that would lose audit data is refused, naming the setting") {
    topic_description good{"ledger.t", 1, 1, false, ledger_topic_config(1)};
    REQUIRE(check_ledger_topic(good));

    struct row {
        std::string setting;
        std::string value;
    };
    const auto r = GENERATE(row{"retention.ms", "3600000"}, row{"retention.bytes", "1073741824"},
                            row{"cleanup.policy", "compact"}, row{"cleanup.policy", "compact,delete"},
                            row{"unclean.leader.election.enable", "true"});
    auto bad = good;
    bad.config[r.setting] = r.value;
    auto checked = check_ledger_topic(bad);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == errc::topic_policy);
    CHECK(checked.error().field == r.setting);
    CHECK_THAT(checked.error().message, Catch::Contains(r.setting + "=" + r.value));
}

TEST_CASE("a topic with more than one partition is refused") {
    topic_description t{"ledger.t", 3, 1, false, ledger_topic_config(1)};
    auto checked = check_ledger_topic(t);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().field == "partitions");
    CHECK_THAT(checked.error().message, Catch::Contains("3 partitions"));
}
