#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

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

namespace {

/// The share of `file`'s pages in the page cache (mincore over a mapping of it, which reads
/// nothing in).
double resident_share(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const auto size = static_cast<std::size_t>(std::filesystem::file_size(file));
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    REQUIRE(map != MAP_FAILED);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> in_core((size + page - 1) / page);
    REQUIRE(::mincore(map, size, in_core.data()) == 0);
    ::munmap(map, size);
    const auto resident = std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return (c & 1) != 0; });
    return static_cast<double>(resident) / static_cast<double>(in_core.size());
}

}  // namespace

TEST_CASE("drop_clean_pages and release_mapped_pages empty the page cache of what is on disk, and nothing is lost") {
    temp_dir dir;
    struct statfs fs {};
    REQUIRE(::statfs(dir.path.c_str(), &fs) == 0);
    if (fs.f_type == TMPFS_MAGIC) {
        WARN("the temporary directory is on tmpfs, whose pages are the data itself: nothing to drop");
        return;
    }
    env e(dir.path);  // every commit synced: its pages are clean once it returns
    auto db = e.open_db("big");
    auto value = [](int i) { return std::string(16 * 1024, static_cast<char>('a' + i % 26)); };
    {
        write_txn txn(e);
        for (int i = 0; i < 512; ++i) txn.put(db, "k" + std::to_string(1000 + i), value(i));  // 8 MiB
        txn.commit();
    }
    const auto file = dir.path / "data.mdb";
    const double before = resident_share(file);
    e.drop_clean_pages();
    const double after = resident_share(file);
    INFO("resident before " << before << ", after " << after);
    CHECK(after < 0.1);
    auto read_all = [&] {
        read_txn r(e);
        for (int i = 0; i < 512; ++i) CHECK(r.get(db, "k" + std::to_string(1000 + i)) == std::optional<std::string_view>(value(i)));
    };
    read_all();  // through LMDB's map: every page read back in, and mapped
    const double read_back = resident_share(file);
    e.drop_clean_pages();
    const double mapped_stay = resident_share(file);
    e.release_mapped_pages();
    e.drop_clean_pages();
    const double released = resident_share(file);
    INFO("read back " << read_back << ", dropped while mapped " << mapped_stay << ", unmapped and dropped " << released);
    CHECK(mapped_stay > 0.9);  // what this process maps stays in the page cache...
    CHECK(released < 0.1);     // ... until it is unmapped
    read_all();
}
