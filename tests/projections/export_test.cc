// The export produced a piece at a time (GET /v1/export streams it): the same bytes whatever the
// piece size, and the document of the moment it began even when the projector appends meanwhile.
// The real projector on a temporary LMDB directory; no Kafka.

#include <catch2/catch.hpp>

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/event.h"
#include "projections/export.h"
#include "projections/projector.h"
#include "projections/store.h"
#include "tests/support/temp_dir.h"

using namespace ledger;
using namespace ledger::projections;
using ledger::testing::temp_dir;
using nlohmann::json;

namespace {

std::string record(int n) {
    json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", n)},
            {"type", "change.requested"},
            {"entity", fmt::format("change/C{}", n)},
            {"system", "AGRESSO"},
            {"actor", "kari"},
            {"occurred_at", "2026-03-02T08:00:00+01:00"},
            {"data", {{"title", "t, \"quoted\""}, {"category", "patch"}, {"description", "d"}}}};
    return events::record_bytes(ev, "tool", "2026-03-02T07:01:00Z");
}

struct ledger_dir {
    temp_dir dir;
    std::unique_ptr<store> s = store::open(dir.path, "ledger.test", true).value();
    std::unique_ptr<projector> p;
    int applied = 0;

    ledger_dir() {
        s->mark_signer();
        projector_options po;
        po.checkpoint_every = 10;
        po.checkpoint_interval = std::chrono::hours(1);
        p = std::make_unique<projector>(*s, po);
    }
    void append(int n) {
        for (int i = 0; i < n; ++i, ++applied) REQUIRE(p->apply({raw_record{applied, record(applied + 1)}}));
    }
};

std::string drain(export_stream& st, std::size_t budget) {
    std::string out, piece;
    while (st.next(piece, budget)) {
        CHECK(!piece.empty());
        out += piece;
        piece.clear();
    }
    return out;
}

}  // namespace

TEST_CASE("the export is the same bytes whatever the piece size") {
    ledger_dir l;
    l.append(35);
    for (auto format : {export_format::json, export_format::csv}) {
        export_stream whole(*l.s, format);
        const auto reference = drain(whole, std::size_t{1} << 30);
        CHECK(whole.records() == 35);
        for (std::size_t budget : {1, 100, 4096}) {
            export_stream st(*l.s, format);
            CHECK(drain(st, budget) == reference);
        }
        std::ostringstream os;
        CHECK(export_log(*l.s, os, format) == 35);
        CHECK(os.str() == reference);
    }
    const auto doc = json::parse([&] {
        export_stream st(*l.s, export_format::json);
        return drain(st, 1);
    }());
    CHECK(doc.at("records").size() == 35);
    CHECK(doc.at("checkpoints").size() == 3);  // offsets 9, 19, 29
    CHECK(doc.at("head").at("applied_offset") == 34);
}

TEST_CASE("an export begun before the projector appends is the document of its start") {
    ledger_dir l;
    l.append(25);
    std::ostringstream before;
    export_log(*l.s, before, export_format::json);

    export_stream st(*l.s, export_format::json);
    std::string out, piece;
    REQUIRE(st.next(piece, 200));  // the preamble
    out += piece;
    piece.clear();
    REQUIRE(st.next(piece, 200));  // a first record or two
    out += piece;
    piece.clear();
    l.append(20);  // records 25..44 and checkpoints at 29, 39 arrive meanwhile
    while (st.next(piece, 200)) {
        out += piece;
        piece.clear();
    }
    CHECK(out == before.str());
    const auto doc = json::parse(out);
    CHECK(doc.at("records").size() == 25);
    CHECK(doc.at("checkpoints").size() == 2);
}

TEST_CASE("an export of a window holds its records and checkpoints only") {
    ledger_dir l;
    l.append(30);
    export_stream st(*l.s, export_format::json, 5, 19);
    const auto doc = json::parse(drain(st, 64));
    REQUIRE(doc.at("records").size() == 15);
    CHECK(doc.at("records").front().at("offset") == 5);
    CHECK(doc.at("records").back().at("offset") == 19);
    REQUIRE(doc.at("checkpoints").size() == 2);
    CHECK(doc.at("checkpoints")[0].at("offset") == 9);
    CHECK(doc.at("checkpoints")[1].at("offset") == 19);
}

TEST_CASE("the export of an empty ledger is a valid document") {
    ledger_dir l;
    export_stream st(*l.s, export_format::json);
    const auto doc = json::parse(drain(st, 10));
    CHECK(doc.at("records").empty());
    CHECK(doc.at("checkpoints").empty());
    export_stream csv(*l.s, export_format::csv);
    CHECK(drain(csv, 10) ==
          "offset,kind,content_hash,chain_hash,id,type,entity,system,actor,occurred_at,recorded_at,producer,record\r\n");
}
