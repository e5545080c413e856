// RFC 8785 conformance: the RFC's own sample, the reference implementation's "weird" key
// ordering file, and every number of Appendix B.

#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>

#include "events/canonical_json.h"
#include "events/event.h"

using namespace ledger::events;

TEST_CASE("RFC 8785 3.2.2 sample: sorting, escaping and numbers") {
    const std::string input =
        R"({"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],)"
        R"("string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]})";
    const std::string expected =
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
        "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    auto parsed = parse_json(input);
    REQUIRE(parsed);
    CHECK(canonicalize(parsed.value()) == expected);
}

TEST_CASE("RFC 8785 member order is by UTF-16 code units, not code points") {
    // testdata/input/weird.json of the reference implementation.
    const std::string input =
        R"({"\u20ac":"Euro Sign","1":"One","\u0080":"Control\u007f","\ud83d\ude02":"Smiley",)"
        R"("\u00f6":"Latin Small Letter O With Diaeresis","\ufb33":"Hebrew Letter Dalet With Dagesh",)"
        R"("</script>":"Browser Challenge"})";
    const std::string expected =
        "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\xc2\x80\":\"Control\x7f\","
        "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
        "\"\xf0\x9f\x98\x82\":\"Smiley\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}";
    auto parsed = parse_json(input);
    REQUIRE(parsed);
    CHECK(canonicalize(parsed.value()) == expected);
}

TEST_CASE("RFC 8785 Appendix B: IEEE 754 doubles as ECMAScript prints them") {
    struct row {
        std::uint64_t bits;
        const char* text;
    };
    const auto r = GENERATE(row{0x0000000000000000, "0"}, row{0x8000000000000000, "0"},
                            row{0x0000000000000001, "5e-324"}, row{0x8000000000000001, "-5e-324"},
                            row{0x7fefffffffffffff, "1.7976931348623157e+308"},
                            row{0xffefffffffffffff, "-1.7976931348623157e+308"},
                            row{0x4340000000000000, "9007199254740992"}, row{0xc340000000000000, "-9007199254740992"},
                            row{0x4430000000000000, "295147905179352830000"},
                            row{0x44b52d02c7e14af5, "9.999999999999997e+22"}, row{0x44b52d02c7e14af6, "1e+23"},
                            row{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
                            row{0x444b1ae4d6e2ef4e, "999999999999999700000"},
                            row{0x444b1ae4d6e2ef4f, "999999999999999900000"}, row{0x444b1ae4d6e2ef50, "1e+21"},
                            row{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"}, row{0x3eb0c6f7a0b5ed8d, "0.000001"},
                            row{0x41b3de4355555553, "333333333.3333332"}, row{0x41b3de4355555554, "333333333.33333325"},
                            row{0x41b3de4355555555, "333333333.3333333"}, row{0x41b3de4355555556, "333333333.3333334"},
                            row{0x41b3de4355555557, "333333333.33333343"},
                            row{0xbecbf647612f3696, "-0.0000033333333333333333"},
                            row{0x43143ff3c1cb0959, "1424953923781206.2"});
    CAPTURE(r.bits);
    CHECK(format_number(std::bit_cast<double>(r.bits)) == r.text);
}

TEST_CASE("NaN and infinity are not JSON") {
    CHECK_THROWS_AS(format_number(std::bit_cast<double>(std::uint64_t{0x7ff8000000000000})), std::domain_error);
    CHECK_THROWS_AS(format_number(std::bit_cast<double>(std::uint64_t{0x7ff0000000000000})), std::domain_error);
}

TEST_CASE("nested structures keep array order and sort every object") {
    auto parsed = parse_json(R"({"b":[{"z":1,"a":2},3],"a":{"y":true,"x":null}})");
    REQUIRE(parsed);
    CHECK(canonicalize(parsed.value()) == R"({"a":{"x":null,"y":true},"b":[{"a":2,"z":1},3]})");
}

TEST_CASE("parse_json rejects duplicate keys, deep nesting, invalid UTF-8 and lone surrogates") {
    struct row {
        std::string input;
        std::string says;
    };
    const auto r = GENERATE(row{R"({"a":1,"a":2})", "duplicate key \"a\""},
                            row{R"({"x":{"a":1,"b":{"a":2,"a":3}}})", "duplicate key \"a\""},
                            row{std::string(40, '[') + std::string(40, ']'), "deeper than 32"},
                            row{std::string(33, '[') + std::string(33, ']'), "deeper than 32"},
                            row{R"({"a":[1,{"b":true,"b":null}]})", "duplicate key \"b\""},
                            row{R"({"a":1} x)", "Malformed JSON"},
                            row{"{\"a\":\"\xff\"}", "Malformed JSON"}, row{R"({"a":"\ud800"})", "Malformed JSON"},
                            row{"{\"a\":1", "Malformed JSON"}, row{"", "Malformed JSON"},
                            row{R"({"a":1e30000001})", "number overflow"});
    auto parsed = parse_json(r.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == errc::malformed_json);
    CHECK_THAT(parsed.error().message, Catch::Contains(r.says));
}

TEST_CASE("the same key in different objects is not a duplicate") {
    CHECK(parse_json(R"({"a":{"a":1},"b":{"a":2}})"));
    CHECK(parse_json(std::string(32, '[') + std::string(32, ']')));
}

TEST_CASE("parse_json builds the same document as nlohmann's own parser") {
    const std::string text =
        R"({"s":"x\u00e9\n","i":-12,"u":18446744073709551615,"f":1.5e3,"t":true,"n":null,)"
        R"("a":[1,[2,[]],{"k":{}}],"o":{"z":1,"y":[{"q":"r"}]},"":"empty key"})";
    auto parsed = parse_json(text);
    REQUIRE(parsed);
    CHECK(parsed.value() == nlohmann::json::parse(text));
    CHECK(parse_json("[]").value() == nlohmann::json::array());
    CHECK(parse_json("\"top\"").value() == "top");
    CHECK(parse_json(" 7 ").value() == 7);
}

TEST_CASE("is_canonical: exactly the bytes canonicalize() writes, nothing else") {
    for (const auto* text : {R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})", R"({"s":"x\u00e9\n\u001f\"\\/"})",
                             R"({"n":[0,-1,4.5,1e+30,0.002,-0]})", R"([])", R"({})", R"("top")"}) {
        const auto canonical = canonicalize(nlohmann::json::parse(text));
        CAPTURE(canonical);
        CHECK(is_canonical(canonical));
    }
    using row = std::pair<std::string, const char*>;
    auto r = GENERATE(row{R"({"a":1, "b":2})", "whitespace"}, row{R"({"b":1,"a":2})", "keys out of order"},
                      row{R"({"a":1,"a":1})", "a repeated key"}, row{R"({"a":"\/"})", "an escaped solidus"},
                      row{R"({"a":"\u0041"})", "an escaped letter"}, row{R"({"a":"\u001F"})", "upper-case hex"},
                      row{R"({"a":"\u000a"})", "\\n written long"}, row{R"({"a":1.0})", "1.0 for 1"},
                      row{R"({"a":1E+30})", "an upper-case exponent"}, row{R"({"a":01})", "a leading zero"},
                      row{std::string(R"({"a":1})") + '\0' + "junk", "a NUL and bytes after the value"},
                      row{R"({"a":1})" "\n", "a trailing newline"}, row{R"({"a":1)", "cut short"},
                      row{std::string("{\"a\":\"x\ty\"}"), "a raw tab"});
    CAPTURE(r.second);
    CHECK_FALSE(is_canonical(r.first));
}

TEST_CASE("a NUL byte is refused wherever it is: JSON cannot hold one") {
    const std::string body = std::string(R"({"a":1})") + '\0' + "junk";
    auto parsed = parse_json(body);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == errc::malformed_json);
    CHECK_THAT(parsed.error().message, Catch::Contains("NUL byte at byte 7"));
}
