#include "projections/lmdb.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace ledger::projections {
namespace {

void check(const char* call, int rc) {
    if (rc != MDB_SUCCESS) {
        throw lmdb_error(call, rc);
    }
}

MDB_val as_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

}  // namespace

std::optional<std::string_view> get(MDB_txn* txn, dbi db, std::string_view key) {
    MDB_val k = as_val(key);
    MDB_val v{};
    const int rc = mdb_get(txn, db.handle, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return std::nullopt;
    }
    check("mdb_get", rc);
    return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

lmdb_error::lmdb_error(const char* call, int rc)
    : std::runtime_error(fmt::format("{}: {}", call, mdb_strerror(rc))), _rc(rc) {}

env::env(const std::filesystem::path& dir, const env_options& options) {
    std::filesystem::create_directories(dir);
    check("mdb_env_create", mdb_env_create(&_env));
    try {
        check("mdb_env_set_mapsize", mdb_env_set_mapsize(_env, options.map_size));
        check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(_env, options.max_dbs));
        check("mdb_env_set_maxreaders", mdb_env_set_maxreaders(_env, options.max_readers));
        check("mdb_env_open",
              mdb_env_open(_env, dir.c_str(), MDB_NOTLS | (options.sync_commits ? 0 : MDB_NOSYNC), 0640));
    } catch (...) {
        mdb_env_close(_env);
        throw;
    }
}

env::~env() {
    if (_env) {
        mdb_env_close(_env);
    }
}

env::env(env&& other) noexcept : _env(std::exchange(other._env, nullptr)) {}

dbi env::open_db(const std::string& name) {
    write_txn txn(*this);
    dbi db;
    check("mdb_dbi_open", mdb_dbi_open(txn.get(), name.c_str(), MDB_CREATE, &db.handle));
    txn.commit();
    return db;
}

std::size_t env::map_size() const {
    MDB_envinfo info{};
    check("mdb_env_info", mdb_env_info(_env, &info));
    return info.me_mapsize;
}

void env::grow() { check("mdb_env_set_mapsize", mdb_env_set_mapsize(_env, map_size() * 2)); }

void env::set_map_size(std::size_t bytes) { check("mdb_env_set_mapsize", mdb_env_set_mapsize(_env, bytes)); }

void env::sync() { check("mdb_env_sync", mdb_env_sync(_env, 1)); }

mdb_filehandle_t env::data_file() const {
    mdb_filehandle_t fd = -1;
    check("mdb_env_get_fd", mdb_env_get_fd(_env, &fd));
    return fd;
}

void env::start_writeback() {
    const auto fd = data_file();
    // nbytes 0: to the end of the file. Only starts the writes; errors show at sync().
    (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void env::drop_clean_pages() {
    const auto fd = data_file();
    // len 0: to the end of the file. Only a hint; a page the kernel cannot drop stays.
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

void env::release_mapped_pages() {
    const auto fd = data_file();
    struct stat st {};
    if (::fstat(fd, &st) != 0) return;
    // LMDB does not tell where its map is (mdb_env_info's me_mapaddr is the fixed address asked
    // for, null); the process's own table of mappings does: the ranges of this file.
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        unsigned long from = 0, to = 0, inode = 0;
        unsigned major = 0, minor = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx %*s %*s %x:%x %lu", &from, &to, &major, &minor, &inode) != 5) continue;
        if (inode != st.st_ino || ::makedev(major, minor) != st.st_dev) continue;
        (void)::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
    }
}

int env::clear_stale_readers() {
    int dead = 0;
    check("mdb_reader_check", mdb_reader_check(_env, &dead));
    return dead;
}

read_txn::read_txn(env& e) { check("mdb_txn_begin(read)", mdb_txn_begin(e.get(), nullptr, MDB_RDONLY, &_txn)); }
read_txn::~read_txn() {
    if (_txn) {
        mdb_txn_abort(_txn);
    }
}
read_txn::read_txn(read_txn&& other) noexcept : _txn(std::exchange(other._txn, nullptr)) {}
std::optional<std::string_view> read_txn::get(dbi db, std::string_view key) const { return projections::get(_txn, db, key); }

write_txn::write_txn(env& e) { check("mdb_txn_begin(write)", mdb_txn_begin(e.get(), nullptr, 0, &_txn)); }
write_txn::~write_txn() {
    if (_txn) {
        mdb_txn_abort(_txn);
    }
}
write_txn::write_txn(write_txn&& other) noexcept
    : _txn(std::exchange(other._txn, nullptr)), _cursors(std::move(other._cursors)) {}

MDB_cursor* write_txn::cursor_for(dbi db) {
    if (db.handle >= _cursors.size()) _cursors.resize(db.handle + 1, nullptr);
    MDB_cursor*& c = _cursors[db.handle];
    if (c == nullptr) check("mdb_cursor_open", mdb_cursor_open(_txn, db.handle, &c));
    return c;
}
std::optional<std::string_view> write_txn::get(dbi db, std::string_view key) const { return projections::get(_txn, db, key); }

void write_txn::put(dbi db, std::string_view key, std::string_view value) {
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    check("mdb_cursor_put", mdb_cursor_put(cursor_for(db), &k, &v, 0));
}

std::optional<std::string_view> write_txn::put_new(dbi db, std::string_view key, std::string_view value) {
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    const int rc = mdb_cursor_put(cursor_for(db), &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
    check("mdb_put(no overwrite)", rc);
    return std::nullopt;
}

void write_txn::append(dbi db, std::string_view key, std::string_view value) {
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    check("mdb_cursor_put(append)", mdb_cursor_put(cursor_for(db), &k, &v, MDB_APPEND));
}

char* write_txn::append_reserved(dbi db, std::string_view key, std::size_t size) {
    MDB_val k = as_val(key);
    MDB_val v{size, nullptr};
    check("mdb_cursor_put(append, reserve)", mdb_cursor_put(cursor_for(db), &k, &v, MDB_APPEND | MDB_RESERVE));
    return static_cast<char*>(v.mv_data);
}

void write_txn::extend(dbi db, std::string_view key, std::string_view bytes, std::string& scratch) {
    MDB_cursor* c = cursor_for(db);
    MDB_val k = as_val(key);  // MDB_SET leaves it ours (MDB_SET_KEY would point it into the page the put changes)
    MDB_val v{};
    const int rc = mdb_cursor_get(c, &k, &v, MDB_SET);
    if (rc == MDB_NOTFOUND) {
        MDB_val value = as_val(bytes);
        check("mdb_cursor_put", mdb_cursor_put(c, &k, &value, 0));
        return;
    }
    check("mdb_cursor_get(set)", rc);
    scratch.assign(static_cast<const char*>(v.mv_data), v.mv_size);
    scratch.append(bytes);
    MDB_val value = as_val(scratch);
    check("mdb_cursor_put(current)", mdb_cursor_put(c, &k, &value, MDB_CURRENT));
}

bool write_txn::del(dbi db, std::string_view key) {
    MDB_val k = as_val(key);
    const int rc = mdb_del(_txn, db.handle, &k, nullptr);
    if (rc == MDB_NOTFOUND) {
        return false;
    }
    check("mdb_del", rc);
    return true;
}

void write_txn::commit() {
    MDB_txn* txn = std::exchange(_txn, nullptr);
    check("mdb_txn_commit", mdb_txn_commit(txn));
}

cursor::cursor(MDB_txn* txn, dbi db) { check("mdb_cursor_open", mdb_cursor_open(txn, db.handle, &_cursor)); }
cursor::~cursor() { mdb_cursor_close(_cursor); }

bool cursor::move(MDB_cursor_op op, std::string_view key) {
    if (op == MDB_SET_RANGE) _key = as_val(key);
    const int rc = mdb_cursor_get(_cursor, &_key, &_value, op);
    if (rc == MDB_NOTFOUND) return false;
    check("mdb_cursor_get", rc);
    return true;
}
bool cursor::seek(std::string_view key) { return move(MDB_SET_RANGE, key); }
bool cursor::first() { return move(MDB_FIRST); }
bool cursor::last() { return move(MDB_LAST); }
bool cursor::next() { return move(MDB_NEXT); }
bool cursor::prev() { return move(MDB_PREV); }
std::string_view cursor::key() const noexcept { return {static_cast<const char*>(_key.mv_data), _key.mv_size}; }
std::string_view cursor::value() const noexcept {
    return {static_cast<const char*>(_value.mv_data), _value.mv_size};
}

}  // namespace ledger::projections
