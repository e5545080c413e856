#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "projections/lmdb.h"

using namespace ledger::projections;

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        path = std::filesystem::temp_directory_path() / ("ledger-lmdb-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("committed writes are read back; aborted ones are not") {
    temp_dir dir;
    env e(dir.path);
    auto db = e.open_db("status");
    {
        write_txn txn(e);
        txn.put(db, "change/CHG-17", "in_test");
        txn.commit();
    }
    {
        write_txn txn(e);
        txn.put(db, "change/CHG-18", "requested");
        // destroyed without commit: aborted
    }
    read_txn r(e);
    CHECK(r.get(db, "change/CHG-17") == std::optional<std::string_view>("in_test"));
    CHECK_FALSE(r.get(db, "change/CHG-18").has_value());
}

TEST_CASE("data survives reopening the environment") {
    temp_dir dir;
    {
        env e(dir.path);
        auto db = e.open_db("meta");
        write_txn txn(e);
        txn.put(db, "applied_offset", "41");
        txn.commit();
    }
    env e(dir.path);
    auto db = e.open_db("meta");
    read_txn r(e);
    CHECK(r.get(db, "applied_offset") == std::optional<std::string_view>("41"));
}

TEST_CASE("a full map throws MDB_MAP_FULL and grows") {
    temp_dir dir;
    env e(dir.path, env_options{1 << 20, 4, 16});
    auto db = e.open_db("big");
    const std::string value(64 * 1024, 'x');
    auto fill = [&] {
        write_txn txn(e);
        for (int i = 0; i < 64; ++i) {
            txn.put(db, "k" + std::to_string(i), value);
        }
        txn.commit();
    };
    try {
        fill();
        FAIL("expected MDB_MAP_FULL");
    } catch (const lmdb_error& err) {
        CHECK(err.code() == MDB_MAP_FULL);
        CHECK_THAT(err.what(), Catch::Contains("mdb_cursor_put"));
    }
    const auto before = e.map_size();
    while (e.map_size() < before * 8) {
        e.grow();
    }
    CHECK_NOTHROW(fill());
    read_txn r(e);
    CHECK(r.get(db, "k63").value().size() == value.size());
}
