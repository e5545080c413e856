#pragma once
// Applies records of the log to the read models, in ledger order, a batch per LMDB write
// transaction: the views, the applied offset and the chain head commit together, so a crash
// anywhere loses nothing and applies nothing twice.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/error.h"
#include "events/event.h"
#include "events/hash.h"
#include "projections/calendar.h"
#include "projections/model.h"
#include "projections/obligations.h"
#include "projections/rules.h"
#include "projections/store.h"

namespace ledger::projections {

/// One record of the log as read from Kafka.
struct raw_record {
    std::int64_t offset = 0;
    std::string payload;
    std::int64_t timestamp_ms = 0;  ///< the broker's timestamp (0: unknown)
};

/// A record with the work that needs no state done: its content hash and its decoding. Made by
/// prepare() on any thread, so reading and decoding can run beside the LMDB writer.
struct prepared_record {
    std::int64_t offset = 0;
    std::string payload;
    std::int64_t timestamp_ms = 0;  ///< the broker's timestamp (0: unknown)
    events::sha256_digest content{};
    std::optional<events::recorded_event> event;  ///< nullopt: not a ledger event; `ev.posted` is
                                                  ///< kept for signed events only (the rules need
                                                  ///< it for nothing else)
    std::string problem;                          ///< why it is not (message and field)
    /// What the record's bytes say against it, whatever its event: not the canonical form the
    /// gateway writes, or recorded_at far from the broker's timestamp (a record written around
    /// the gateway). Findings at its offset, never a silent pass.
    std::vector<raised> record_findings;
    /// Set by chain_ahead(): the chain hash through this record, computed from `chained_from`,
    /// the chain hash through the record before it. The writer uses it only when `chained_from`
    /// is its own head's chain, and hashes the record itself otherwise.
    std::optional<events::sha256_digest> chain;
    events::sha256_digest chained_from{};
};
[[nodiscard]] prepared_record prepare(raw_record record);

/// Computes ahead, on the reading side, the chain hash of each record of `records` that follows
/// `through` (the head after the records handed over before: next offset and chain hash), and
/// moves `through` past them. The chain is sequential, but it needs no read model: the writer,
/// the projection's bottleneck, then only compares 32 bytes per record.
void chain_ahead(std::vector<prepared_record>& records, head& through);

struct projector_options {
    /// Sign checkpoints with the data directory's key. Exactly one process per ledger signs (the
    /// ledger's key is the one its checkpoints are verified against); query nodes and replays only
    /// project. Default: true.
    bool sign = true;
    /// A checkpoint at every offset that is a multiple of this minus one (1,000 events)...
    std::int64_t checkpoint_every = 1000;
    /// ... and at the end of a batch when this long has passed since the last one, or, when no
    /// batch comes, by checkpoint_if_due() this long after the last one.
    std::chrono::milliseconds checkpoint_interval{10'000};
};

struct batch_result {
    std::size_t applied = 0;     ///< records newly applied (events, duplicates, undecodable)
    std::size_t skipped = 0;     ///< records at offsets already applied (a re-read after restart)
    std::vector<checkpoint_row> checkpoints;  ///< signed in this batch, to publish
    std::chrono::nanoseconds sla_time{0};     ///< spent in the SLA engine (obligations)
    head after;
};

class projector {
public:
    projector(store& s, projector_options options = {});

    /// Applies `records` (ascending offsets) in one transaction, retrying after growing the map
    /// on MDB_MAP_FULL. Records before the head are skipped. A record past the head (a gap) stops
    /// the batch: what came before it is committed, then errc::offset_gap is returned.
    [[nodiscard]] result<batch_result> apply(const std::vector<prepared_record>& records);
    /// The same for records not prepared yet (prepares them here).
    [[nodiscard]] result<batch_result> apply(const std::vector<raw_record>& records);

    /// Signs a checkpoint of the head, in a transaction of its own, when events applied since the
    /// last checkpoint have waited checkpoint_interval: a batch signs one only when it comes, so
    /// without this the last events before a quiet spell would wait for the next event to be
    /// covered. nullopt when none is due. The writer's thread only, between batches.
    [[nodiscard]] result<std::optional<checkpoint_row>> checkpoint_if_due();

    /// The canonical JSON a checkpoint signs.
    [[nodiscard]] static std::string checkpoint_message(const std::string& topic, std::int64_t offset,
                                                        const std::string& chain_hash_hex);

private:
    static calendar load_calendar(store& s);
    static std::int64_t last_checkpoint_offset(store& s);
    checkpoint_row sign_checkpoint(write_txn& txn, const head& at);
    /// Whether the record at `original` and `bytes` hold the same posted fields (a duplicate
    /// proper), or the id is reused with other content.
    [[nodiscard]] bool same_posted_content(write_txn& txn, std::int64_t original, std::string_view bytes) const;

    store& _store;
    projector_options _options;
    std::chrono::steady_clock::time_point _last_checkpoint = std::chrono::steady_clock::now();
    std::int64_t _checkpointed_through;  ///< the offset of the last checkpoint signed (-1: none)
    std::int64_t _applied_through;       ///< the offset of the last record applied (-1: none)
    calendar _calendar;  ///< with the holidays applied so far
    sla_engine _sla;
};

}  // namespace ledger::projections
