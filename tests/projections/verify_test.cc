// Verification against the ledger's pinned key and its published checkpoints (domain.md 4): rows
// of the read models re-signed with another key, a published checkpoint that contradicts the log,
// a deleted checkpoint row, and the warning when nothing was checked. The real projector and
// verifier on temporary LMDB directories; no Kafka (the published checkpoints are given).

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/ed25519.h"
#include "events/event.h"
#include "projections/checkpoints.h"
#include "projections/projector.h"
#include "projections/store.h"
#include "tests/support/temp_dir.h"
#include "projections/verify.h"

using namespace ledger;
using namespace ledger::projections;
using ledger::testing::temp_dir;
using nlohmann::json;

namespace {

std::string record(int n, const std::string& title = "t") {
    json ev{{"id", fmt::format("00000000-0000-4000-8000-{:012}", n)},
            {"type", "change.requested"},
            {"entity", fmt::format("change/C{}", n)},
            {"system", "AGRESSO"},
            {"actor", "kari"},
            {"occurred_at", "2026-03-02T08:00:00+01:00"},
            {"data", {{"title", title}, {"category", "patch"}, {"description", "d"}}}};
    return events::record_bytes(ev, "tool", "2026-03-02T07:01:00Z");
}

/// A signing ledger of 25 records with checkpoints at offsets 9 and 19.
struct signed_ledger {
    temp_dir dir;
    std::unique_ptr<store> s = store::open(dir.path, "ledger.test", true).value();
    std::vector<std::string> records;
    std::vector<checkpoint_row> published;

    signed_ledger() {
        s->mark_signer();
        projector_options po;
        po.checkpoint_every = 10;
        po.checkpoint_interval = std::chrono::hours(1);
        projector p(*s, po);
        for (int i = 0; i < 25; ++i) {
            records.push_back(record(i + 1));
            auto r = p.apply({raw_record{i, records.back()}});
            REQUIRE(r);
            for (auto& cp : r.value().checkpoints) published.push_back(cp);
        }
        REQUIRE(published.size() == 2);
    }

    verify_report verify(const std::vector<std::string>& log, bool pin = true) {
        temp_dir scratch;
        verifier v(*s, scratch.path);
        v.use_published(published);
        if (pin) v.pin_key(s->public_key(), "the data directory's own key");
        for (std::size_t i = 0; i < log.size(); ++i) v.feed(static_cast<std::int64_t>(i), log[i]);
        return v.finish(static_cast<std::int64_t>(log.size()));
    }
};

bool names(const verify_report& r, std::int64_t offset, const std::string& words) {
    for (const auto& p : r.problems) {
        if (p.offset == offset && p.problem.find(words) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("a clean signing ledger: both checkpoints checked against its own key, published and in LMDB") {
    signed_ledger l;
    const auto r = l.verify(l.records);
    CAPTURE(r.to_json().dump());
    CHECK(r.problems.empty());
    CHECK(r.checkpoints_checked == 2);
    CHECK(r.checkpoints_published == 2);
    CHECK(r.key == events::base64_encode(l.s->public_key()));
    CHECK(r.warnings.empty());
}

TEST_CASE("a checkpoint row re-signed with another key is refused: the key is pinned, not read from the row") {
    signed_ledger l;
    const auto other = events::ed25519_generate();
    {
        write_txn txn(l.s->lmdb());
        auto cp = decode<checkpoint_row>(*txn.get(l.s->checkpoints, be64(19)));
        cp.public_key = other.public_key;
        cp.signature = events::ed25519_sign(
            other.secret_key, projector::checkpoint_message("ledger.test", 19, events::to_hex(cp.chain_hash)));
        txn.put(l.s->checkpoints, be64(19), encode(cp));
        txn.commit();
    }
    const auto r = l.verify(l.records);
    CAPTURE(r.to_json().dump());
    CHECK(names(r, 19, "signed by key " + events::base64_encode(other.public_key)));
}

TEST_CASE("a log rewritten at offset 15 and replayed: the published checkpoint at 19 contradicts it") {
    signed_ledger l;
    auto rewritten = l.records;
    rewritten[15] = record(16, "rewritten");
    // A new directory projected from the rewritten log, signing nothing (a replay).
    temp_dir dir;
    auto replayed = store::open(dir.path, "ledger.test", true).value();
    {
        projector_options po;
        po.sign = false;
        projector p(*replayed, po);
        for (std::size_t i = 0; i < rewritten.size(); ++i) {
            REQUIRE(p.apply({raw_record{static_cast<std::int64_t>(i), rewritten[i]}}));
        }
    }
    SECTION("the replay's check of what it covers") {
        std::size_t checked = 0;
        const auto problems = check_published(*replayed, l.published, l.s->public_key(), checked);
        CHECK(checked == 2);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].offset == 19);
        CHECK(problems[0].problem.find("rewritten") != std::string::npos);
    }
    SECTION("verify of the replayed directory, trusting the first published key") {
        temp_dir scratch;
        verifier v(*replayed, scratch.path);
        v.use_published(l.published);
        for (std::size_t i = 0; i < rewritten.size(); ++i) v.feed(static_cast<std::int64_t>(i), rewritten[i]);
        const auto r = v.finish(static_cast<std::int64_t>(rewritten.size()));
        CAPTURE(r.to_json().dump());
        CHECK(r.checkpoints_checked == 2);
        REQUIRE_FALSE(r.problems.empty());
        CHECK(r.problems.front().offset == 19);
        CHECK_FALSE(r.warnings.empty());  // no key pinned: it says which it trusted
    }
    SECTION("the log cut short and the topic recreated: a published checkpoint past its end") {
        rewritten.resize(15);
        const auto r = l.verify(rewritten);
        CHECK(names(r, 19, "does not hold"));
    }
}

TEST_CASE("the newest checkpoint row deleted from the signing directory is caught: the topic has it") {
    signed_ledger l;
    {
        write_txn txn(l.s->lmdb());
        txn.del(l.s->checkpoints, be64(19));
        txn.commit();
    }
    const auto r = l.verify(l.records);
    CAPTURE(r.to_json().dump());
    CHECK(names(r, 19, "lack the checkpoint published"));
}

TEST_CASE("verify says when it checked no checkpoint") {
    temp_dir dir;
    auto s = store::open(dir.path, "ledger.test", true).value();
    std::vector<std::string> log;
    {
        projector_options po;
        po.sign = false;
        projector p(*s, po);
        for (int i = 0; i < 5; ++i) {
            log.push_back(record(i + 1));
            REQUIRE(p.apply({raw_record{i, log.back()}}));
        }
    }
    temp_dir scratch;
    verifier v(*s, scratch.path);
    for (std::size_t i = 0; i < log.size(); ++i) v.feed(static_cast<std::int64_t>(i), log[i]);
    const auto r = v.finish(5);
    CHECK(r.problems.empty());
    CHECK(r.checkpoints_checked == 0);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("no checkpoint was checked") != std::string::npos);
}

TEST_CASE("checkpoint records round-trip; a malformed one names its field") {
    checkpoint_row cp;
    cp.offset = 999;
    cp.chain_hash = std::string(32, '\x11');
    cp.public_key = std::string(32, '\x22');
    cp.signature = std::string(64, '\x33');
    cp.signed_at = "2026-12-04T00:00:00.000Z";
    const auto parsed = parse_checkpoint_record(checkpoint_record("ledger.x", cp));
    REQUIRE(parsed);
    CHECK(parsed.value().ledger == "ledger.x");
    CHECK(parsed.value().row.offset == 999);
    CHECK(parsed.value().row.chain_hash == cp.chain_hash);
    CHECK(parsed.value().row.signature == cp.signature);
    auto j = json::parse(checkpoint_record("ledger.x", cp));
    j["chain_hash"] = "zz";
    const auto bad = parse_checkpoint_record(j.dump());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().field == "chain_hash");
}

TEST_CASE("a row that cannot be decoded is a problem naming its database and offset; the rest is checked") {
    signed_ledger l;
    {
        write_txn txn(l.s->lmdb());
        // A size field that claims more bytes than the value has, as a flipped byte in data.mdb did.
        txn.put(l.s->log, be64(3), std::string("\x01\x00\xff\xff\xff\xff\x7f", 7));
        txn.put(l.s->checkpoints, be64(9), std::string("\x01\xff\xff\xff", 4));
        txn.commit();
    }
    verify_report r;
    REQUIRE_NOTHROW(r = l.verify(l.records));
    CAPTURE(r.to_json().dump());
    CHECK(names(r, 3, "read model log: the row at this offset cannot be decoded"));
    CHECK(names(r, 9, "read model checkpoints: the row at this offset cannot be decoded"));
    CHECK(r.checkpoints_checked == 2);  // the published copy of 9, and 19
    CHECK(r.verified_through_offset == 24);
}

TEST_CASE("verify names each producer that names no token, once, with its first offset and count") {
    signed_ledger l;  // every record by producer "tool"
    const auto& log = l.records;
    const auto run = [&](std::set<std::string> names) {
        temp_dir scratch;
        verifier v(*l.s, scratch.path);
        v.use_published(l.published);
        v.pin_key(l.s->public_key(), "pinned");
        v.check_producers(std::move(names), "tokens.toml");
        for (std::size_t i = 0; i < l.records.size(); ++i) v.feed(static_cast<std::int64_t>(i), log[i]);
        return v.finish(static_cast<std::int64_t>(l.records.size()));
    };
    {
        const auto r = run({"tool", "admin"});
        INFO(r.to_json().dump());
        CHECK(r.problems.empty());
        CHECK(r.producers_checked_against == "tokens.toml");
    }
    {
        const auto r = run({"admin"});
        INFO(r.to_json().dump());
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].offset == 0);
        CHECK(r.problems[0].problem.find("producer 'tool' names no token of tokens.toml: 25 records (offsets 0 to 24)") !=
              std::string::npos);
    }
    {
        // Without the token names nothing is checked, and the report says so.
        const auto r = l.verify(l.records);
        CHECK(r.problems.empty());
        CHECK(r.producers_checked_against.empty());
        CHECK(r.to_json().at("producers_checked_against").is_null());
    }
}
