#pragma once
// RAII over LMDB: environment, read and write transactions, named databases.
//
// Failures of the surroundings (corrupt file, map full, no space) throw lmdb_error naming the
// LMDB call; "not found" is a value (std::nullopt).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <lmdb.h>

namespace ledger::projections {

/// An LMDB call failed. `code()` is LMDB's return code (MDB_MAP_FULL, MDB_CORRUPTED, ...).
class lmdb_error : public std::runtime_error {
public:
    lmdb_error(const char* call, int rc);
    [[nodiscard]] int code() const noexcept { return _rc; }

private:
    int _rc;
};

struct env_options {
    /// Initial map size; grown on MDB_MAP_FULL. Default: 64 MiB.
    std::size_t map_size = std::size_t{64} << 20;
    /// Maximum number of named databases. Default: 32.
    unsigned max_dbs = 32;
    /// Maximum concurrent read transactions. Default: 256.
    unsigned max_readers = 256;
    /// Whether each commit is flushed to disk before it returns. false (MDB_NOSYNC) suits a
    /// bulk load that is worthless until finished: a crash of the process still loses nothing
    /// committed, a crash of the machine may undo the last commits; call env::sync() at the end.
    /// Default: true.
    bool sync_commits = true;
};

class read_txn;
class write_txn;

/// A named database handle; valid for the life of its environment.
struct dbi {
    MDB_dbi handle = 0;
};

/// An LMDB environment on a directory (created if missing). Move-only; thread safe as LMDB is.
class env {
public:
    env(const std::filesystem::path& dir, const env_options& options = {});
    ~env();
    env(env&& other) noexcept;
    env& operator=(env&&) = delete;
    env(const env&) = delete;

    /// Opens (creating if needed) the named database. Call once per name at start-up.
    dbi open_db(const std::string& name);
    /// Doubles the map size; call with no transaction open in this process.
    void grow();
    /// Sets the map's size; LMDB makes it at least what the data takes (tests shrink it so that
    /// the next batch fills it).
    void set_map_size(std::size_t bytes);
    [[nodiscard]] std::size_t map_size() const;
    /// Clears reader slots left by crashed processes; returns how many were cleared.
    int clear_stale_readers();
    /// Flushes every commit to disk (mdb_env_sync, forced).
    void sync();
    /// Starts writing to disk what earlier commits left in the page cache, without waiting for
    /// it (sync_file_range, SYNC_FILE_RANGE_WRITE): a later sync() then has less to wait for.
    /// Safe from any thread, beside a write transaction. Durability still comes from sync().
    void start_writeback();
    /// Asks the kernel to drop from the page cache the data file's pages that are already on disk
    /// (posix_fadvise, POSIX_FADV_DONTNEED): dirty pages, pages being written and pages this
    /// process has mapped stay. Nothing is lost; a page dropped is read from disk when needed
    /// again. For a bulk writer (a replay) whose pages are seldom read again: its page cache
    /// stays small instead of growing by the size of what it writes.
    void drop_clean_pages();
    /// Unmaps the data file's pages from this process (madvise, MADV_DONTNEED over each of its
    /// mappings; the map is read-only, so nothing is lost: the next access maps the page again
    /// from the page cache or reads it from disk). LMDB reads through its map, and the kernel
    /// maps the cached neighbours of every page read with it, so most of what a replay writes
    /// ends up mapped, which drop_clean_pages() cannot drop. Call only where the map cannot move
    /// meanwhile (store::release_page_cache).
    void release_mapped_pages();

    [[nodiscard]] MDB_env* get() const noexcept { return _env; }

private:
    /// The data file's descriptor, LMDB's own.
    [[nodiscard]] mdb_filehandle_t data_file() const;
    MDB_env* _env = nullptr;
};

/// The value under `key` in any transaction (read or write), or nullopt; throws lmdb_error on
/// any other failure. The view is valid until the transaction ends or writes.
[[nodiscard]] std::optional<std::string_view> get(MDB_txn* txn, dbi db, std::string_view key);

/// A read-only snapshot. Move-only; aborts in the destructor.
class read_txn {
public:
    explicit read_txn(env& e);
    ~read_txn();
    read_txn(read_txn&& other) noexcept;
    read_txn& operator=(read_txn&&) = delete;
    read_txn(const read_txn&) = delete;

    /// The value under `key`, or nullopt. The view is valid until the transaction ends.
    [[nodiscard]] std::optional<std::string_view> get(dbi db, std::string_view key) const;
    [[nodiscard]] MDB_txn* get() const noexcept { return _txn; }

private:
    MDB_txn* _txn = nullptr;
};

/// The one writer. Move-only; aborts in the destructor unless committed.
class write_txn {
public:
    explicit write_txn(env& e);
    ~write_txn();
    write_txn(write_txn&& other) noexcept;
    write_txn& operator=(write_txn&&) = delete;
    write_txn(const write_txn&) = delete;

    [[nodiscard]] std::optional<std::string_view> get(dbi db, std::string_view key) const;
    void put(dbi db, std::string_view key, std::string_view value);
    /// Puts `key` unless it is there: nullopt when it was put, else the value already under it
    /// (MDB_NOOVERWRITE: one search for both the check and the insert).
    [[nodiscard]] std::optional<std::string_view> put_new(dbi db, std::string_view key, std::string_view value);
    /// Puts a key greater than every key in `db` (MDB_APPEND: no search, pages filled full).
    /// Throws lmdb_error (MDB_KEYEXIST) if it is not.
    void append(dbi db, std::string_view key, std::string_view value);
    /// The same, reserving `size` bytes for the value in LMDB's page and returning them to fill
    /// (MDB_RESERVE: the caller writes the value once, where it is kept). Valid until the next
    /// write in this transaction.
    [[nodiscard]] char* append_reserved(dbi db, std::string_view key, std::size_t size);
    /// Appends `bytes` to the value under `key`, putting them as the value if there is none: one
    /// search for both the read and the put. `scratch` holds the joined value meanwhile.
    void extend(dbi db, std::string_view key, std::string_view bytes, std::string& scratch);
    /// Returns whether the key existed.
    bool del(dbi db, std::string_view key);
    /// Makes the changes durable. The handle is cleared first, so a throwing commit never aborts twice.
    void commit();
    [[nodiscard]] MDB_txn* get() const noexcept { return _txn; }

private:
    /// One cursor per database for the puts, kept for the transaction (which closes them): a
    /// cursor already on the page where the next key goes skips the search from the root.
    MDB_cursor* cursor_for(dbi db);

    MDB_txn* _txn = nullptr;
    std::vector<MDB_cursor*> _cursors;
};

/// A cursor over one database, inside a read or write transaction (which must outlive it).
/// Keys are ordered bytewise.
class cursor {
public:
    cursor(MDB_txn* txn, dbi db);
    ~cursor();
    cursor(const cursor&) = delete;
    cursor& operator=(const cursor&) = delete;

    /// Positions at the first key >= `key`; false if there is none.
    bool seek(std::string_view key);
    bool first();
    bool last();
    bool next();
    bool prev();
    [[nodiscard]] std::string_view key() const noexcept;
    [[nodiscard]] std::string_view value() const noexcept;

private:
    bool move(MDB_cursor_op op, std::string_view key = {});
    MDB_cursor* _cursor = nullptr;
    MDB_val _key{};
    MDB_val _value{};
};

}  // namespace ledger::projections
