// tests/golden/records.tsv: one Kafka record of every event type, with its SHA-256, written by an
// independent implementation (tests/golden/make_golden.py). Every run decodes each record,
// re-encodes it to the same bytes and re-hashes it.

#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "events/canonical_json.h"
#include "events/event.h"

using namespace ledger::events;

TEST_CASE("golden records of every event type decode, re-encode byte for byte and re-hash") {
    std::ifstream in(std::string(LEDGER_SOURCE_DIR) + "/tests/golden/records.tsv");
    REQUIRE(in);
    std::set<std::string> seen;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        const auto tab = line.find('\t');
        REQUIRE(tab == 64);
        const auto hash = line.substr(0, tab);
        const auto bytes = line.substr(tab + 1);
        CAPTURE(n, bytes);
        CHECK(to_hex(sha256(bytes)) == hash);
        auto rec = decode_record(bytes);
        REQUIRE(rec);
        const auto& ev = rec.value().ev;
        CHECK(type_name(ev.data) == ev.env.type);
        CHECK(kind_of(ev.data) == ev.env.kind);
        seen.insert(ev.env.type);
        // The record is rebuilt from the decoded event to the same bytes.
        CHECK(record_bytes(ev.posted, rec.value().producer, rec.value().recorded_at) == bytes);
        // Typed data encodes back to the posted data.
        const auto data = ev.posted.contains("data") ? ev.posted.at("data") : nlohmann::json::object();
        CHECK(canonicalize(encode_data(ev.data)) == canonicalize(data));
    }
    const auto all = all_type_names();
    CHECK(seen.size() == all.size());
    for (auto t : all) {
        CHECK(seen.count(std::string(t)) == 1);
    }
}
