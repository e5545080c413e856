#pragma once
// A data directory: the LMDB environment of the read models, its named databases, the ledger's
// Ed25519 key and the lock that admits one projector.
//
// Databases (no DUPSORT anywhere):
//   meta          "format", "topic", "next_offset", "chain", "records", "signer" (present: this
//                 directory's key signs the ledger's checkpoints)
//   log           offset(8)                       -> log_row     every record, for verify and trails
//   ids           event id                        -> offset(8)   applied ids: duplicates apply once
//   entities      "<kind>/<id>"                   -> entity_record
//   entity_trail  entity \0 block(8)              -> its offsets in the block, 8 bytes each (model.h)
//   actor_trail   actor \0 block(8)               -> low bytes of its offsets in the block (model.h)
//   system_trail  system \0 block(8)              -> the same
//   time_index    occurred(8, sign flipped) offset(8) -> ""
//   findings      offset(8) index(8)              -> finding_row
//   grants        actor                           -> grants
//   checkpoints   offset(8)                       -> checkpoint_row

#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "events/error.h"
#include "events/hash.h"
#include "projections/calendar.h"
#include "projections/lmdb.h"
#include "projections/sla_policy.h"

namespace ledger::projections {

enum class errc {
    data_dir_locked = 1,  ///< another projector holds this data directory
    format_mismatch,      ///< written by another format or for another ledger
    cannot_open,          ///< LMDB or the file system refused
    offset_gap,           ///< the log skips an offset: records were deleted
    not_found,            ///< no such data directory
};
const std::error_category& projections_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// Where the projection stands: the next offset to apply and the chain hash through the last.
struct head {
    std::int64_t next_offset = 0;
    events::sha256_digest chain = events::genesis();
    std::uint64_t records = 0;
};

class store {
public:
    /// Opens (creating if `writer`) the data directory for `topic`. A writer takes the
    /// directory's lock (refused with errc::data_dir_locked while another holds it) and creates
    /// the ledger key on first start (mode 0600). A reader opens an existing directory only.
    /// `bulk` (a writer rebuilding a new directory: replay, verify) does not flush each batch to
    /// disk; the caller syncs once at the end (lmdb().sync()).
    /// The SLA policy: a writer given one keeps it in the directory on first start and refuses a
    /// different one later (the deadlines in the read models were computed under it); without one
    /// (and for readers) the directory's own policy applies, or the defaults.
    [[nodiscard]] static result<std::unique_ptr<store>> open(const std::filesystem::path& dir,
                                                             const std::string& topic, bool writer,
                                                             bool bulk = false, const sla_policy* policy = nullptr);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    [[nodiscard]] projections::env& lmdb() { return _env; }
    [[nodiscard]] const std::filesystem::path& dir() const { return _dir; }
    [[nodiscard]] const std::string& topic() const { return _topic; }

    /// A read transaction that keeps the map from being resized under it.
    class reader {
    public:
        explicit reader(store& s) : _lock(s._resize), _txn(s._env) {}
        [[nodiscard]] const read_txn& txn() const { return _txn; }
        [[nodiscard]] MDB_txn* get() const { return _txn.get(); }

    private:
        std::shared_lock<std::shared_mutex> _lock;
        read_txn _txn;
    };
    /// Doubles the map (after MDB_MAP_FULL), waiting for readers in this process to finish.
    void grow();
    /// Drops the data file's pages that are on disk from the page cache, mapped by this process
    /// or not (env::release_mapped_pages, then env::drop_clean_pages), keeping the map from
    /// moving meanwhile. For a bulk writer (a replay): its page cache stays small.
    void release_page_cache();

    [[nodiscard]] head read_head(MDB_txn* txn) const;
    void write_head(write_txn& txn, const head& h) const;
    [[nodiscard]] head current_head();

    /// Whether the ledger's checkpoints are signed with this directory's key (a process that
    /// signs marks it so once): its own public key is then the ledger's pinned key.
    [[nodiscard]] bool signs() const { return _signs; }
    void mark_signer();

    /// The ledger's key pair: 32-byte public (also for readers, when the key file is readable),
    /// 64-byte secret (writer only).
    [[nodiscard]] const std::string& public_key() const { return _public_key; }
    [[nodiscard]] const std::string& secret_key() const { return _secret_key; }

    /// The SLA policy the read models were computed under.
    [[nodiscard]] const sla_policy& policy() const { return _policy; }
    /// The business calendar with the holidays the ledger has added and removed.
    [[nodiscard]] calendar make_calendar(MDB_txn* txn) const;

    dbi meta, log, ids, entities, entity_trail, actor_trail, system_trail, time_index, findings, grants, checkpoints;
    /// SLA: obligations by entity; the deadline index (min due, then key) of those that can be
    /// breached; links between entities (a key's predecessor, holidays); the first report of a
    /// kind per period.
    dbi obligations, deadlines, sla_links, reports;

private:
    store(std::filesystem::path dir, std::string topic, projections::env e);
    std::filesystem::path _dir;
    std::string _topic;
    projections::env _env;
    std::shared_mutex _resize;
    int _lock_fd = -1;
    std::string _public_key;
    std::string _secret_key;
    bool _signs = false;
    sla_policy _policy;
};

/// Reads the ledger key of a data directory (creating it if missing): base64 lines in
/// `ledger.key` (mode 0600): the public key, then the secret key.
[[nodiscard]] result<std::pair<std::string, std::string>> load_or_create_key(const std::filesystem::path& dir);

}  // namespace ledger::projections

template <>
struct std::is_error_code_enum<ledger::projections::errc> : std::true_type {};
