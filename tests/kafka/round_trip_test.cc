// A record round trip through the real broker: durable producer → Kafka → partition reader.

#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "consumers/partition_reader.h"
#include "producers/ledger_topic.h"
#include "producers/producer.h"
#include "tests/support/kafka.h"

using namespace ledger;

namespace {

std::string make_ledger_topic() {
    producers::topic_options opts;
    opts.brokers = testing::test_brokers();
    const auto topic = "ledger." + testing::unique_name("roundtrip");
    auto ensured = producers::ensure_ledger_topic(opts, topic);
    REQUIRE(ensured);
    return topic;
}

std::vector<consumers::record> read_all(const std::string& topic, ledger_offset from, std::size_t count) {
    consumers::reader_options opts;
    opts.brokers = testing::test_brokers();
    auto reader = consumers::partition_reader::open(opts, topic, from);
    REQUIRE(reader);
    std::vector<consumers::record> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
        auto polled = reader.value()->poll(std::chrono::milliseconds(500));
        REQUIRE(polled);
        if (auto* rec = std::get_if<consumers::record>(&polled.value())) {
            out.push_back(*rec);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("records appended with acks=all and idempotence come back byte for byte, in order") {
    const auto topic = make_ledger_topic();
    producers::producer_options popts;
    popts.brokers = testing::test_brokers();
    auto created = producers::producer::create(popts);
    REQUIRE(created);
    auto& producer = *created.value();
    CHECK(producer.property("enable.idempotence") == "true");
    CHECK(producer.property("acks") == "-1");

    // Payloads with every byte value, including NUL and invalid UTF-8.
    std::vector<std::string> payloads;
    std::mt19937 rng(42);
    for (int i = 0; i < 50; ++i) {
        std::string p(static_cast<std::size_t>(1 + i * 37), '\0');
        for (auto& c : p) c = static_cast<char>(rng() & 0xff);
        payloads.push_back(p);
    }
    std::vector<ledger_offset> offsets;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        auto coords = producer.append_and_wait(topic, "key-" + std::to_string(i), payloads[i]);
        REQUIRE(coords);  // the delivery report said every in-sync replica has it
        CHECK(coords.value().topic == topic);
        CHECK(coords.value().partition == 0);
        offsets.push_back(coords.value().offset);
    }
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        CHECK(offsets[i] == ledger_offset{static_cast<std::int64_t>(i)});
    }

    auto records = read_all(topic, ledger_offset{0}, payloads.size());
    REQUIRE(records.size() == payloads.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        CHECK(records[i].offset == offsets[i]);
        CHECK(records[i].key == "key-" + std::to_string(i));
        CHECK(records[i].payload == payloads[i]);
    }
}

TEST_CASE("many concurrent appends each get their own delivery report") {
    const auto topic = make_ledger_topic();
    producers::producer_options popts;
    popts.brokers = testing::test_brokers();
    auto producer = producers::producer::create(popts).value();
    constexpr int n = 2000;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::int64_t> got;
    int failures = 0;
    for (int i = 0; i < n; ++i) {
        producer->append(topic, {}, "event-" + std::to_string(i), [&](result<ledger_coordinates> r) {
            std::lock_guard lock(mu);
            if (r) {
                got.push_back(r.value().offset.value());
            } else {
                ++failures;
            }
            cv.notify_one();
        });
    }
    {
        std::unique_lock lock(mu);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return got.size() + failures == n; }));
    }
    CHECK(failures == 0);
    std::sort(got.begin(), got.end());
    REQUIRE(got.size() == n);
    CHECK(got.front() == 0);
    CHECK(got.back() == n - 1);
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());  // no offset twice

    auto records = read_all(topic, ledger_offset{1990}, 10);
    REQUIRE(records.size() == 10);
    // Kafka keeps the order of one idempotent producer's appends.
    CHECK(records.front().payload == "event-1990");
    CHECK(records.back().payload == "event-1999");
}

TEST_CASE("the reader reports the end of the partition and then new records") {
    const auto topic = make_ledger_topic();
    consumers::reader_options ropts;
    ropts.brokers = testing::test_brokers();
    auto reader = consumers::partition_reader::open(ropts, topic, ledger_offset{0}).value();
    bool eof = false;
    for (int i = 0; i < 40 && !eof; ++i) {
        auto polled = reader->poll(std::chrono::milliseconds(250));
        REQUIRE(polled);
        if (auto* e = std::get_if<consumers::end_of_partition>(&polled.value())) {
            eof = true;
            CHECK(e->next == ledger_offset{0});
        }
    }
    REQUIRE(eof);
    producers::producer_options popts;
    popts.brokers = testing::test_brokers();
    auto producer = producers::producer::create(popts).value();
    REQUIRE(producer->append_and_wait(topic, {}, "late"));
    bool seen = false;
    for (int i = 0; i < 40 && !seen; ++i) {
        auto polled = reader->poll(std::chrono::milliseconds(250));
        REQUIRE(polled);
        if (auto* rec = std::get_if<consumers::record>(&polled.value())) {
            seen = rec->payload == "late";
        }
    }
    CHECK(seen);
}

TEST_CASE("an append to an unreachable broker fails within the message timeout, not acknowledged") {
    producers::producer_options popts;
    popts.brokers = "127.0.0.1:1";  // nothing listens there
    popts.message_timeout = std::chrono::milliseconds(1500);
    auto producer = producers::producer::create(popts).value();
    const auto started = std::chrono::steady_clock::now();
    auto r = producer->append_and_wait("ledger.nowhere", {}, "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == producers::errc::delivery_failed);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
}

TEST_CASE("after a fatal error the producer rebuilds itself and appends again") {
    const auto topic = make_ledger_topic();
    producers::producer_options popts;
    popts.brokers = testing::test_brokers();
    auto producer = producers::producer::create(popts).value();
    REQUIRE(producer->append_and_wait(topic, {}, "before"));
    producer->raise_fatal_for_test();
    for (int i = 0; i < 50 && !producer->fatal(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(producer->fatal());
    auto after = producer->append_and_wait(topic, {}, "after");
    REQUIRE(after);
    CHECK(after.value().offset == ledger_offset{1});
    CHECK(producer->rebuilds() == 1);
    CHECK_FALSE(producer->fatal());
    auto records = read_all(topic, ledger_offset{0}, 2);
    REQUIRE(records.size() == 2);
    CHECK(records[1].payload == "after");
}
