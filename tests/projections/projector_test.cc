// The projector's record-level findings (every byte counts): a record whose bytes are not the
// canonical form, whose recorded_at is far from the broker's timestamp, that reuses an id with
// other content, or that holds a NUL and junk after a valid event, gets a finding naming its
// offset. Through the real projector on a temporary LMDB directory; no Kafka.

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/canonical_json.h"
#include "events/event.h"
#include "events/time.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/store.h"
#include "tests/support/temp_dir.h"

using namespace ledger;
using namespace ledger::projections;
using ledger::testing::temp_dir;
using nlohmann::json;

namespace {

json posted(int n, const std::string& title = "t") {
    return {{"id", fmt::format("00000000-0000-4000-8000-{:012}", n)},
            {"type", "change.requested"},
            {"entity", fmt::format("change/C{}", n)},
            {"system", "AGRESSO"},
            {"actor", "kari"},
            {"occurred_at", "2026-03-02T08:00:00+01:00"},
            {"data", {{"title", title}, {"category", "patch"}, {"description", "d"}}}};
}

constexpr const char* recorded_at = "2026-03-02T07:01:00.000Z";
const std::int64_t recorded_ms =
    events::parse_rfc3339(recorded_at).at.time_since_epoch().count() / 1000;

struct one_ledger {
    temp_dir dir;
    std::unique_ptr<store> s = store::open(dir.path, "ledger.test", true).value();
    std::unique_ptr<projector> p = std::make_unique<projector>(*s);
    std::int64_t next = 0;

    std::int64_t put(const std::string& bytes, std::int64_t timestamp_ms = recorded_ms) {
        REQUIRE(p->apply({raw_record{next, bytes, timestamp_ms}}));
        return next++;
    }
    /// The findings raised at `offset`, by name.
    std::vector<std::string> at(std::int64_t offset) {
        std::vector<std::string> out;
        const auto all = findings(*s, {});
        for (const auto& f : all["findings"]) {
            if (f["offset"] == offset && f["finding"] != "unknown_actor") out.push_back(f["finding"]);
        }
        return out;
    }
};

}  // namespace

TEST_CASE("a record as the gateway writes it raises no record finding") {
    one_ledger l;
    const auto o = l.put(events::record_bytes(posted(1), "tool", recorded_at));
    CHECK(l.at(o).empty());
}

TEST_CASE("non_canonical_record: the same event in other bytes") {
    one_ledger l;
    auto doc = posted(1);
    doc["producer"] = "tool";
    doc["recorded_at"] = recorded_at;
    const auto o = l.put(doc.dump(2));  // indented: the event is the same, the bytes are not
    CHECK(l.at(o) == std::vector<std::string>{"non_canonical_record"});
    // Still applied: the ledger never refuses history, it flags it.
    CHECK(entity_status(*l.s, "change/C1", std::nullopt));
}

TEST_CASE("a valid event followed by a NUL and junk is not applied as that event") {
    one_ledger l;
    const auto o = l.put(events::record_bytes(posted(1), "tool", recorded_at) + '\0' + "junk");
    CHECK(l.at(o) == std::vector<std::string>{"undecodable_record"});
    CHECK_FALSE(entity_status(*l.s, "change/C1", std::nullopt));
}

TEST_CASE("recorded_at_mismatch: recorded_at far from the broker's timestamp") {
    one_ledger l;
    // Backdated: recorded_at says 2020, the broker took it in 2026.
    const auto backdated = l.put(events::record_bytes(posted(1), "tool", "2020-01-01T00:00:00.000Z"), recorded_ms);
    CHECK(l.at(backdated) == std::vector<std::string>{"recorded_at_mismatch"});
    // Within the tolerance (4 minutes later): nothing.
    const auto close = l.put(events::record_bytes(posted(2), "tool", recorded_at), recorded_ms + 4 * 60 * 1000);
    CHECK(l.at(close).empty());
    // No broker timestamp known: nothing to compare.
    const auto unknown = l.put(events::record_bytes(posted(3), "tool", "2020-01-01T00:00:00.000Z"), 0);
    CHECK(l.at(unknown).empty());
}

TEST_CASE("conflicting_duplicate: an existing id with other content gets its own finding") {
    one_ledger l;
    const auto first = l.put(events::record_bytes(posted(1), "tool", recorded_at));
    // The same posted fields again (another recorded_at): a duplicate proper, no finding.
    const auto copy = l.put(events::record_bytes(posted(1), "other-tool", "2026-03-02T07:02:00.000Z"),
                            recorded_ms + 60'000);
    CHECK(l.at(copy).empty());
    // The same id, another title: applied once, flagged.
    const auto conflict = l.put(events::record_bytes(posted(1, "changed"), "tool", recorded_at));
    CHECK(l.at(conflict) == std::vector<std::string>{"conflicting_duplicate"});
    CHECK(entity_status(*l.s, "change/C1", std::nullopt).value()["seq"] == 1);
    CHECK(l.at(first).empty());
}
