#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "projections/model.h"

using namespace ledger::projections;

namespace {

// Unversioned, so that its encoding is exactly its fields.
struct numbers {
    std::uint64_t u64 = 0;
    std::int64_t i64 = 0;
    std::uint32_t u32 = 0;
    std::int32_t i32 = 0;
    std::uint16_t u16 = 0;
    std::int16_t i16 = 0;
    std::uint8_t u8 = 0;
    bool flag = false;
    double real = 0;
    std::string text;

    template <class A>
    void serialize(A& a) {
        a(u64, i64, u32, i32, u16, i16, u8, flag, real, text);
    }
    bool operator==(const numbers&) const = default;
};

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

entity_record sample_entity() {
    entity_record e;
    e.entity = "change/CHG-17";
    e.system = "AGRESSO";
    e.state = "in_production";
    e.seq = 7;
    e.last_offset = 123456789;
    e.last_event_id = "3adbe1d8-0000-4000-8000-000000001714";
    e.last_type = "change.deployed";
    e.last_occurred_us = -1;  // before the epoch: zigzag
    e.fields = {{"title", "Change 17"}, {"test_artifact_digest", std::string(71, 'a')}, {"empty", ""}};
    e.flags = {"approved_start", "approved_production"};
    e.deployers = {"ola", "per"};
    e.times = {{"not_after", std::numeric_limits<std::int64_t>::max()},
               {"activated", std::numeric_limits<std::int64_t>::min()}};
    return e;
}

}  // namespace

TEST_CASE("compact archive: integers are LEB128, signed ones zigzag; bytes and strings as they are") {
    numbers n;
    n.u64 = 300;  // 0b10'0101100 -> 0xac 0x02
    n.i64 = -1;   // zigzag 1
    n.u32 = 127;
    n.i32 = 64;  // zigzag 128 -> 0x80 0x01
    n.u16 = 0;
    n.i16 = -2;  // zigzag 3
    n.u8 = 0xff;
    n.flag = true;
    n.real = 0.5;
    n.text = "ab";
    std::string expected = bytes({0xac, 0x02, 0x01, 0x7f, 0x80, 0x01, 0x00, 0x03, 0xff, 0x01});
    expected += bytes({0, 0, 0, 0, 0, 0, 0xe0, 0x3f});  // 0.5, little endian
    expected += bytes({0x02, 'a', 'b'});
    CHECK(encode(n) == expected);
    CHECK(decode<numbers>(expected) == n);
}

TEST_CASE("compact archive: every integer's extremes come back exactly") {
    using L64 = std::numeric_limits<std::int64_t>;
    using L32 = std::numeric_limits<std::int32_t>;
    using L16 = std::numeric_limits<std::int16_t>;
    for (const numbers& n : {numbers{}, numbers{std::numeric_limits<std::uint64_t>::max(), L64::min(),
                                                  std::numeric_limits<std::uint32_t>::max(), L32::min(),
                                                  std::numeric_limits<std::uint16_t>::max(), L16::min(), 0, true,
                                                  -1e300, std::string(300, 'x')},
                             numbers{1ull << 63, L64::max(), 1u << 31, L32::max(), 1u << 15, L16::max(), 1, false,
                                     0.0, ""}}) {
        const auto encoded = encode(n);
        CAPTURE(encoded.size());
        CHECK(decode<numbers>(encoded) == n);
    }
    // The widest: ten bytes for a 64-bit number, five for a 32-bit one.
    numbers widest{std::numeric_limits<std::uint64_t>::max(), 0, std::numeric_limits<std::uint32_t>::max(), 0, 0, 0,
                   0, false, 0, ""};
    CHECK(encode(widest).size() == 10 + 1 + 5 + 1 + 1 + 1 + 1 + 1 + 8 + 1);
}

TEST_CASE("compact archive: the read models' values round-trip") {
    const auto e = sample_entity();
    const auto encoded = encode(e);
    const auto back = decode<entity_record>(encoded);
    CHECK(back.entity == e.entity);
    CHECK(back.system == e.system);
    CHECK(back.state == e.state);
    CHECK(back.seq == e.seq);
    CHECK(back.last_offset == e.last_offset);
    CHECK(back.last_event_id == e.last_event_id);
    CHECK(back.last_type == e.last_type);
    CHECK(back.last_occurred_us == e.last_occurred_us);
    CHECK(back.fields == e.fields);
    CHECK(back.flags == e.flags);
    CHECK(back.deployers == e.deployers);
    CHECK(back.times == e.times);
    CHECK(encode(back) == encoded);

    log_row row;
    row.kind = record_kind::duplicate;
    row.bytes = R"({"id":"x"})";
    row.content_hash = std::string(32, '\x01');
    row.chain_hash = std::string(32, '\xfe');
    row.entity = "change/CHG-17";
    row.seq = 1u << 20;
    row.occurred_us = 1'790'000'000'000'000;
    row.recorded_us = -5;
    row.problem = "event x was applied at offset 3";
    const auto r = decode<log_row>(encode(row));
    CHECK(r.kind == row.kind);
    CHECK(r.bytes == row.bytes);
    CHECK(r.content_hash == row.content_hash);
    CHECK(r.chain_hash == row.chain_hash);
    CHECK(r.entity == row.entity);
    CHECK(r.seq == row.seq);
    CHECK(r.occurred_us == row.occurred_us);
    CHECK(r.recorded_us == row.recorded_us);
    CHECK(r.problem == row.problem);

    grants g;
    g.items.push_back(grant{"approver", "*", 10, std::nullopt, std::nullopt});
    g.items.push_back(grant{"deployer", "AGRESSO", -10, 99, std::nullopt});
    const auto gb = decode<grants>(encode(g));
    REQUIRE(gb.items.size() == 2);
    CHECK(gb.items[1].role == "deployer");
    CHECK(gb.items[1].system == "AGRESSO");
    CHECK(gb.items[1].from_us == -10);
    CHECK(gb.items[1].until_us == std::optional<std::int64_t>(99));
    CHECK_FALSE(gb.items[0].until_us.has_value());
}

TEST_CASE("compact archive: a value begins with its type's version; another version is refused") {
    const auto encoded = encode(sample_entity());
    REQUIRE_FALSE(encoded.empty());
    CHECK(static_cast<unsigned char>(encoded[0]) == entity_record::version);
    auto other = encoded;
    other[0] = static_cast<char>(entity_record::version + 1);
    CHECK_THROWS_WITH(decode<entity_record>(other), Catch::Contains("has version 2, not 1"));
    // A grant inside grants has no version of its own: the value's covers it.
    grants g;
    g.items = {grant{"a", "*", 1, std::nullopt, std::nullopt}, grant{"b", "*", 2, std::nullopt, 3}};
    //                        version  items  role      system    from  until  revoked
    const auto expected = bytes({1,    2,     1, 'a',   1, '*',   2,    1,     1,
                                                1, 'b',   1, '*',   4,    1,     0, 6});
    CHECK(encode(g) == expected);
    CHECK(decode<grants>(expected).items[1].revoked_us == std::optional<std::int64_t>(3));
}

TEST_CASE("compact archive: damaged bytes are refused, never read past or over-allocated") {
    const auto encoded = encode(sample_entity());
    SECTION("every truncation") {
        for (std::size_t n = 0; n < encoded.size(); ++n) {
            CAPTURE(n);
            CHECK_THROWS_AS(decode<entity_record>(encoded.substr(0, n)), cereal::Exception);
        }
    }
    SECTION("bytes left over") {
        CHECK_THROWS_WITH(decode<entity_record>(encoded + "x"), Catch::Contains("1 bytes are left"));
    }
    SECTION("a size larger than what is left") {
        // version 1, then the entity's string claims 2^62 bytes
        const auto damaged = bytes({0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}) + "abc";
        CHECK_THROWS_WITH(decode<entity_record>(damaged), Catch::Contains("more than the 3 bytes left"));
    }
    SECTION("a number longer than its type") {
        numbers n;
        auto ok = encode(n);
        // u64 in eleven bytes
        CHECK_THROWS_WITH(decode<numbers>(std::string(10, '\x80') + bytes({0x01}) + ok.substr(1)),
                          Catch::Contains("longer than 64 bits"));
        // u64 in ten bytes whose last carries more than the one bit left
        CHECK_THROWS_WITH(decode<numbers>(std::string(9, '\xff') + bytes({0x02}) + ok.substr(1)),
                          Catch::Contains("longer than 64 bits"));
        // u32 of 2^32 (five bytes, 0x10 in the last)
        CHECK_THROWS_WITH(decode<numbers>(ok.substr(0, 2) + bytes({0x80, 0x80, 0x80, 0x80, 0x10}) + ok.substr(3)),
                          Catch::Contains("longer than 32 bits"));
        // u16 of 2^16
        CHECK_THROWS_WITH(decode<numbers>(ok.substr(0, 4) + bytes({0x80, 0x80, 0x04}) + ok.substr(5)),
                          Catch::Contains("longer than 16 bits"));
    }
    SECTION("a boolean that is neither 0 nor 1") {
        numbers n;
        auto damaged = encode(n);
        damaged[7] = 2;  // u64 u32 i64 i32 u16 i16 u8: one byte each when 0
        CHECK_THROWS_WITH(decode<numbers>(damaged), Catch::Contains("boolean"));
    }
}

TEST_CASE("a log_row_view written straight into its room is the very bytes of the log_row it stands for") {
    auto view_of = [](const log_row& r) {
        return log_row_view{r.kind,  r.bytes,       r.content_hash, r.chain_hash, r.entity,
                            r.seq,   r.occurred_us, r.recorded_us,  r.problem};
    };
    auto written = [](const log_row_view& v) {
        std::string out(encoded_size(v), '?');
        encode_into(out.data(), v);
        return out;
    };
    log_row row;
    row.kind = record_kind::event;
    row.bytes = R"({"actor":"ola","id":"00000000-0000-4000-8000-000000000001"})";
    row.content_hash = std::string(32, '\x11');
    row.chain_hash = std::string(32, '\x00');
    row.entity = "change/CHG-17";
    row.seq = 300;
    row.occurred_us = 1'790'000'000'000'000;
    row.recorded_us = -1;
    CHECK(written(view_of(row)) == encode(row));
    row.kind = record_kind::undecodable;
    row.bytes = "not json";
    row.entity.clear();
    row.problem = "offset 3 is not a ledger event";
    CHECK(written(view_of(row)) == encode(row));
    const auto back = decode<log_row>(written(view_of(row)));
    CHECK(back.problem == row.problem);
    CHECK(back.bytes == row.bytes);
    CHECK(back.recorded_us == -1);

    SECTION("every size of number and text") {
        const std::string long_bytes(300, 'b');  // a size of two bytes
        for (const std::uint64_t seq : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
                                        std::uint64_t{300}, std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
            for (const std::string_view problem : {std::string_view{}, std::string_view{"a reason"}}) {
                for (const std::int64_t t : {std::int64_t{0}, std::int64_t{-5}, std::int64_t{1'790'000'000'000'000},
                                             std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max()}) {
                    CAPTURE(seq, problem, t);
                    log_row r;
                    r.kind = problem.empty() ? record_kind::event : record_kind::undecodable;
                    r.bytes = problem.empty() ? std::string(R"({"id":"x"})") : long_bytes;
                    r.content_hash = std::string(32, '\x11');
                    r.chain_hash = std::string(32, '\x5a');
                    r.entity = problem.empty() ? "change/CHG-17" : "";
                    r.seq = seq;
                    r.occurred_us = t;
                    r.recorded_us = t / -2;
                    r.problem = std::string(problem);
                    const auto bytes = written(view_of(r));
                    CHECK(bytes == encode(r));
                    const auto decoded = decode<log_row>(bytes);
                    CHECK(decoded.seq == seq);
                    CHECK(decoded.occurred_us == t);
                    CHECK(decoded.chain_hash == r.chain_hash);
                    CHECK(decoded.problem == problem);
                }
            }
        }
    }
}
