// decode_record_lean() must answer exactly as decode_record(): the same events from the golden
// records, and the same error (code, field and message) for every record spoiled from them in
// each way a producer or a stray writer to Kafka could spoil it.

#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "events/canonical_json.h"
#include "events/event.h"

using namespace ledger::events;
using json = nlohmann::json;

namespace {

std::vector<std::string> golden_records() {
    std::ifstream in(std::string(LEDGER_SOURCE_DIR) + "/tests/golden/records.tsv");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line.substr(line.find('\t') + 1));
    return out;
}

// The same answer from both decoders; returns whether the record was an event.
bool same_answer(const std::string& bytes) {
    CAPTURE(bytes);
    const auto full = decode_record(bytes);
    const auto lean = decode_record_lean(bytes);
    REQUIRE(full.has_value() == lean.has_value());
    if (!full) {
        CHECK(lean.error().code == full.error().code);
        CHECK(lean.error().field == full.error().field);
        CHECK(lean.error().message == full.error().message);
        return false;
    }
    const auto& a = full.value();
    const auto& b = lean.value();
    CHECK(b.producer == a.producer);
    CHECK(b.recorded_at == a.recorded_at);
    CHECK(b.recorded == a.recorded);
    CHECK(b.ev.env.id == a.ev.env.id);
    CHECK(b.ev.env.type == a.ev.env.type);
    CHECK(b.ev.env.entity == a.ev.env.entity);
    CHECK(b.ev.env.system == a.ev.env.system);
    CHECK(b.ev.env.actor == a.ev.env.actor);
    CHECK(b.ev.env.occurred == a.ev.env.occurred);
    CHECK(b.ev.env.signature.has_value() == a.ev.env.signature.has_value());
    CHECK(canonicalize(encode_data(b.ev.data)) == canonicalize(encode_data(a.ev.data)));
    // The document is kept for a signed event only.
    if (a.ev.env.signature) {
        CHECK(b.ev.posted == a.ev.posted);
    } else {
        CHECK(b.ev.posted.is_null());
    }
    return true;
}

const std::vector<json> replacements{nullptr, 1, -2, 1.5, true, json::array(), json::array({1}), json::object(),
                                     json::object({{"x", 1}}), "", "x", "actor/x", "2026-03-02T10:15:00Z"};

}  // namespace

TEST_CASE("decode_record_lean decodes every golden record as decode_record does") {
    const auto records = golden_records();
    REQUIRE(records.size() >= 40);
    for (const auto& r : records) CHECK(same_answer(r));
}

TEST_CASE("decode_record_lean refuses what decode_record refuses, with the same error") {
    int refused = 0;
    for (const auto& bytes : golden_records()) {
        const auto record = json::parse(bytes);
        std::vector<std::string> spoiled;
        auto spoil = [&](const json& j) { spoiled.push_back(j.dump()); };
        for (const auto& [key, value] : record.items()) {
            json without = record;
            without.erase(key);
            spoil(without);
            for (const auto& r : replacements) {
                json changed = record;
                changed[key] = r;
                spoil(changed);
            }
        }
        if (record.contains("data")) {
            for (const auto& [key, value] : record["data"].items()) {
                json without = record;
                without["data"].erase(key);
                spoil(without);
                for (const auto& r : replacements) {
                    json changed = record;
                    changed["data"][key] = r;
                    spoil(changed);
                }
            }
            json extra = record;
            extra["data"]["zz_unknown"] = 1;
            extra["data"]["aa_unknown"] = 2;  // two unknown fields: the same one is named
            spoil(extra);
        }
        json extra = record;
        extra["zz"] = 1;
        extra["signature"] = {{"key", "key/k1"}, {"sig", "not base64"}};
        spoil(extra);
        extra["signature"] = {{"key", "k1"}, {"sig", 1}, {"other", true}};
        spoil(extra);
        // Text no json::dump() would write: duplicate keys, keys out of order, bad JSON, depth.
        spoiled.push_back("{\"id\":1," + bytes.substr(1));
        spoiled.push_back(bytes.substr(0, bytes.size() - 1) + ",\"actor\":\"x\"}");
        spoiled.push_back(bytes.substr(0, bytes.size() - 1) + ",\"aaa\":{\"b\":1,\"a\":2,\"b\":3}}");
        spoiled.push_back(bytes.substr(0, bytes.size() / 2));
        spoiled.push_back(std::string(40, '[') + std::string(40, ']'));
        spoiled.push_back("\"just a string\"");
        spoiled.push_back("[" + bytes + "]");
        spoiled.push_back(bytes + " x");
        for (const auto& s : spoiled) refused += same_answer(s) ? 0 : 1;
    }
    CHECK(refused > 1000);  // the table above is mostly bad records
}

TEST_CASE("decode_record_lean's fast parse (simdjson) accepts only the documents nlohmann accepts, read the same") {
    // Texts on which the two parsers could differ, put where a value goes in a golden record: in
    // place of a field, and as an extra one. Where simdjson declines, nlohmann parses again; the
    // answer (event, or code, field and message) must be decode_record's every time.
    const std::vector<std::string> values{
        "-0", "-0.0", "0e0", "-0e-5", "1E400", "-1e400", "1e-400", "18446744073709551615", "18446744073709551616",
        "-9223372036854775808", "-9223372036854775809", "9223372036854775807", "9223372036854775808",
        "1.7976931348623157e308", "4.9e-324", "0.1", "123456789012345678901234567890", "01", "1.", ".5", "+1",
        "NaN", "Infinity", "-", "1e", "[]", "{}", "[1,]", "{\"a\":1,}", "null", "true", "false", "nul",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\udc00\"", "\"\\ud83d\\ude00\"", "\"\\uD800\\u0041\"", "\"a\\u0000b\"",
        "\"\\u00e6\\u00f8\\u00e5\"", "\"æøå\"", std::string("\"a\x01") + "b\"", "\"a\tb\"", "\"\xff\"", "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\\x\"", "\"\\/\"", "\"a", "/*c*/1", "1 ", "\t\r\n1",
        std::string(31, '[') + std::string(31, ']'), std::string(32, '[') + std::string(32, ']'),
        "{\"a\":1,\"a\":1}", "{\"b\":1,\"a\":{\"x\":1,\"x\":2}}", "{\"\\u0061\":1,\"a\":2}", "{\"z\":1,\"a\":2,\"m\":3}"};
    std::size_t checked = 0;
    std::size_t events = 0;
    for (const auto& bytes : golden_records()) {
        for (const auto& v : values) {
            // the value of the record's first field, of its last, and a new field at the end
            const auto first_colon = bytes.find(':');
            const auto first_end = bytes.find(",\"", first_colon);
            std::vector<std::string> texts{
                bytes.substr(0, first_colon + 1) + v + bytes.substr(first_end),
                bytes.substr(0, bytes.rfind(':') + 1) + v + "}",
                bytes.substr(0, bytes.size() - 1) + ",\"zz\":" + v + "}",
                "\xef\xbb\xbf" + bytes,  // a byte order mark, which nlohmann skips
                bytes + "\n",
            };
            for (const auto& t : texts) {
                events += same_answer(t) ? 1 : 0;
                ++checked;
            }
        }
    }
    CHECK(checked > 2000);
    CHECK(events > 0);  // some are events (the byte order mark, the trailing newline)
    // Nesting at the limit and past it, inside a record.
    const auto record = golden_records().front();
    for (int depth : {30, 31, 32, 33, 40}) {
        same_answer(record.substr(0, record.size() - 1) + ",\"zz\":" + std::string(static_cast<std::size_t>(depth), '[') +
                    std::string(static_cast<std::size_t>(depth), ']') + "}");
    }
}
