// domain.md 2.1: bad input gets an error naming the field and the problem.

#include <catch2/catch.hpp>

#include "events/event.h"

using namespace ledger::events;
using json = nlohmann::json;

namespace {

const timestamp now = parse_rfc3339("2026-03-02T12:00:00Z").at;

json valid_deploy() {
    return json::parse(R"({
      "id": "7b7c6bb0-8d3e-4b1c-9f7a-1c2d3e4f5a6b",
      "type": "change.deployed",
      "entity": "change/CHG-17",
      "system": "AGRESSO",
      "actor": "ola",
      "occurred_at": "2026-03-02T10:15:00+01:00",
      "data": {"environment": "production",
               "artifact": {"name": "agresso", "version": "5.7.1",
                            "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}
    })");
}

}  // namespace

TEST_CASE("a valid event decodes to its typed data") {
    auto ev = decode_event(valid_deploy(), now);
    REQUIRE(ev);
    CHECK(ev.value().env.type == "change.deployed");
    CHECK(ev.value().env.kind == entity_kind::change);
    CHECK(ev.value().env.entity_id == "CHG-17");
    CHECK(format_utc(ev.value().env.occurred) == "2026-03-02T09:15:00.000Z");
    const auto& d = std::get<change_deployed>(ev.value().data);
    CHECK(d.environment == "production");
    CHECK(d.artifact.version == "5.7.1");
}

TEST_CASE("each rule of domain.md 2.1 is enforced, naming the field") {
    struct row {
        std::string name;
        std::function<void(json&)> mutate;
        errc code;
        std::string field;
    };
    const auto r = GENERATE(
        row{"missing id", [](json& j) { j.erase("id"); }, errc::missing_field, "id"},
        row{"id not a UUID", [](json& j) { j["id"] = "CHG-17-deploy"; }, errc::invalid_value, "id"},
        row{"id a number", [](json& j) { j["id"] = 17; }, errc::wrong_type, "id"},
        row{"missing type", [](json& j) { j.erase("type"); }, errc::missing_field, "type"},
        row{"unknown type", [](json& j) { j["type"] = "change.teleported"; }, errc::unknown_type, "type"},
        row{"missing entity", [](json& j) { j.erase("entity"); }, errc::missing_field, "entity"},
        row{"entity without kind", [](json& j) { j["entity"] = "CHG-17"; }, errc::invalid_value, "entity"},
        row{"entity of unknown kind", [](json& j) { j["entity"] = "ticket/CHG-17"; }, errc::invalid_value, "entity"},
        row{"entity kind mismatch", [](json& j) { j["entity"] = "key/CHG-17"; }, errc::entity_kind_mismatch, "entity"},
        row{"missing system", [](json& j) { j.erase("system"); }, errc::missing_field, "system"},
        row{"missing actor", [](json& j) { j.erase("actor"); }, errc::missing_field, "actor"},
        row{"missing occurred_at", [](json& j) { j.erase("occurred_at"); }, errc::missing_field, "occurred_at"},
        row{"occurred_at without offset", [](json& j) { j["occurred_at"] = "2026-03-02T10:15:00"; },
            errc::missing_offset, "occurred_at"},
        row{"occurred_at malformed", [](json& j) { j["occurred_at"] = "02.03.2026 10:15"; }, errc::invalid_value,
            "occurred_at"},
        row{"occurred_at 6 minutes ahead", [](json& j) { j["occurred_at"] = "2026-03-02T12:06:00Z"; },
            errc::occurred_in_future, "occurred_at"},
        row{"unknown envelope field", [](json& j) { j["priority"] = "high"; }, errc::unknown_field, "priority"},
        row{"ledger field posted", [](json& j) { j["recorded_at"] = "2026-03-02T10:15:00Z"; }, errc::unknown_field,
            "recorded_at"},
        row{"missing data", [](json& j) { j.erase("data"); }, errc::missing_field, "data"},
        row{"data not an object", [](json& j) { j["data"] = "production"; }, errc::not_an_object, "data"},
        row{"unknown data field", [](json& j) { j["data"]["colour"] = "blue"; }, errc::unknown_field, "data.colour"},
        row{"missing data field", [](json& j) { j["data"].erase("environment"); }, errc::missing_field,
            "data.environment"},
        row{"enumeration", [](json& j) { j["data"]["environment"] = "staging"; }, errc::not_in_enumeration,
            "data.environment"},
        row{"nested missing", [](json& j) { j["data"]["artifact"].erase("digest"); }, errc::missing_field,
            "data.artifact.digest"},
        row{"nested malformed digest", [](json& j) { j["data"]["artifact"]["digest"] = "md5:abc"; },
            errc::invalid_value, "data.artifact.digest"},
        row{"nested unknown", [](json& j) { j["data"]["artifact"]["size"] = 12; }, errc::unknown_field,
            "data.artifact.size"},
        row{"nested wrong type", [](json& j) { j["data"]["artifact"]["version"] = 5.7; }, errc::wrong_type,
            "data.artifact.version"},
        row{"signature without sig", [](json& j) { j["signature"] = {{"key", "key/K-1"}}; }, errc::missing_field,
            "signature.sig"},
        row{"signature key not key/", [](json& j) { j["signature"] = {{"key", "K-1"}, {"sig", "AAAA"}}; },
            errc::invalid_value, "signature.key"},
        row{"signature not base64 of 64 bytes", [](json& j) { j["signature"] = {{"key", "key/K-1"}, {"sig", "AAAA"}}; },
            errc::invalid_value, "signature.sig"});
    CAPTURE(r.name);
    auto j = valid_deploy();
    r.mutate(j);
    auto ev = decode_event(j, now);
    REQUIRE_FALSE(ev);
    CHECK(ev.error().code == r.code);
    CHECK(ev.error().field == r.field);
    CHECK_THAT(ev.error().message, Catch::Contains(r.field));
}

TEST_CASE("type-specific rules") {
    auto base = [](std::string type, std::string entity, json data) {
        return json{{"id", "7b7c6bb0-8d3e-4b1c-9f7a-1c2d3e4f5a6b"}, {"type", type}, {"entity", entity},
                    {"system", "SF"}, {"actor", "hd"}, {"occurred_at", "2026-03-02T10:00:00Z"}, {"data", data}};
    };
    SECTION("a webservice route needs its agreement to be established") {
        json data{{"action", "establish"}, {"transport", "webservice"}, {"addressing", "explicit"},
                  {"sender_system", "A"}, {"receiver_system", "B"}, {"order_id", "O-1"}};
        auto ev = decode_event(base("route.ordered", "route/R-1", data), now);
        REQUIRE_FALSE(ev);
        CHECK(ev.error().field == "data.agreement");
        data["transport"] = "sftp";
        CHECK(decode_event(base("route.ordered", "route/R-1", data), now));
    }
    SECTION("a signing key needs its public key") {
        json data{{"purpose", "signing"}, {"owner", "Oslo"},
                  {"fingerprint", "sha256:" + std::string(64, 'a')}, {"not_after", "2027-01-01T00:00:00Z"}};
        auto ev = decode_event(base("key.issued", "key/K-1", data), now);
        REQUIRE_FALSE(ev);
        CHECK(ev.error().field == "data.public_key");
        data["public_key"] = "too short";
        CHECK(decode_event(base("key.issued", "key/K-1", data), now).error().field == "data.public_key");
        data["purpose"] = "seal";
        data.erase("public_key");
        CHECK(decode_event(base("key.issued", "key/K-1", data), now));
    }
    SECTION("a key's fingerprint is \"sha256:\" and hex digits (domain.md 2.3), an artifact's digest 64 of them") {
        json data{{"purpose", "seal"}, {"owner", "bank"}, {"fingerprint", "sha256:9f86d081884c"},
                  {"not_after", "2027-01-01T00:00:00Z"}};
        CHECK(decode_event(base("key.issued", "key/K-1", data), now));
        data["fingerprint"] = "sha256:" + std::string(64, 'A');
        CHECK(decode_event(base("key.issued", "key/K-1", data), now));
        for (const char* bad : {"sha256:", "sha256:xyz", "9f86d081884c", "SHA256:9f86", "sha1:9f86"}) {
            data["fingerprint"] = bad;
            auto ev = decode_event(base("key.issued", "key/K-1", data), now);
            REQUIRE_FALSE(ev);
            CHECK(ev.error().field == "data.fingerprint");
        }
        json deployed{{"environment", "test"}, {"artifact", {{"name", "a"}, {"version", "1"}, {"digest", "sha256:9f86"}}}};
        CHECK(decode_event(base("change.deployed", "change/C-1", deployed), now).error().field == "data.artifact.digest");
    }
    SECTION("references take a bare id or one with its kind") {
        auto ev = decode_event(base("route.activated", "route/R-1", {{"window", "window/W-2"}}), now);
        REQUIRE(ev);
        CHECK(std::get<route_activated>(ev.value().data).window == "W-2");
        CHECK(ev.value().posted["data"]["window"] == "window/W-2");  // kept as sent
    }
    SECTION("a sign-off is for the test environment only; verification for production only") {
        json data{{"environment", "production"}, {"result", "passed"},
                  {"artifact_digest", "sha256:" + std::string(64, 'b')}};
        CHECK(decode_event(base("test.signed_off", "change/C-1", data), now).error().code == errc::not_in_enumeration);
        CHECK(decode_event(base("change.verified", "change/C-1", {{"environment", "test"}, {"result", "passed"}}), now)
                  .error()
                  .field == "data.environment");
    }
    SECTION("types without data take none, or an empty object, but no fields") {
        auto no_data = base("window.closed", "window/W-2", {});
        no_data.erase("data");
        CHECK(decode_event(no_data, now));
        CHECK(decode_event(base("window.closed", "window/W-2", json::object()), now));
        CHECK(decode_event(base("window.closed", "window/W-2", {{"reason", "x"}}), now).error().field == "data.reason");
    }
    SECTION("maintenance ends after it starts") {
        json data{{"service", "S-1"}, {"starts_at", "2026-03-20T18:00:00+01:00"},
                  {"ends_at", "2026-03-20T17:00:00+01:00"}, {"impact", "none"}};
        CHECK(decode_event(base("maintenance.announced", "maintenance/M-1", data), now).error().field == "data.ends_at");
    }
    SECTION("a service target is a percentage") {
        CHECK(decode_event(base("service.registered", "service/S", {{"environment", "test"}, {"target", 99.0}}), now));
        CHECK(decode_event(base("service.registered", "service/S", {{"environment", "test"}, {"target", 120}}), now)
                  .error()
                  .field == "data.target");
        CHECK(decode_event(base("service.registered", "service/S", {{"environment", "test"}, {"target", "99"}}), now)
                  .error()
                  .code == errc::wrong_type);
    }
    SECTION("a report period is a month") {
        CHECK(decode_event(base("report.submitted", "report/R", {{"kind", "uptime"}, {"period", "2026-13"}}), now)
                  .error()
                  .field == "data.period");
    }
}

TEST_CASE("occurred_at up to 5 minutes ahead is accepted; reading records back skips the clock") {
    auto j = valid_deploy();
    j["occurred_at"] = "2026-03-02T12:05:00Z";
    CHECK(decode_event(j, now));
    j["occurred_at"] = "2099-01-01T00:00:00Z";
    CHECK(decode_event(j, std::nullopt));
}

TEST_CASE("identical content has the same fingerprint whatever the key order and spacing") {
    auto a = parse_json(R"({"b":1,"a":{"y":2,"x":"é"}})").value();
    auto b = parse_json("{ \"a\" : { \"x\" : \"\\u00e9\", \"y\" : 2 }, \"b\" : 1 }").value();
    CHECK(content_fingerprint(a) == content_fingerprint(b));
    b["b"] = 2;
    CHECK_FALSE(content_fingerprint(a) == content_fingerprint(b));
}
