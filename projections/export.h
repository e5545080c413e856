#pragma once
// `ledger export`: the log with its evidence, in formats anyone can check with standard tools
// (domain.md 4): every record's exact bytes, content hash and chain hash, and the signed
// checkpoints with the message each signs. In offset order, bounded by the head at the start.
//
// json: one document
//   {"format":"audit-ledger-export/1","ledger":TOPIC,"partition":0,
//    "chain":{"genesis":HEX,"rule":TEXT},
//    "head":{"applied_offset":N,"records":N,"chain_hash":HEX},
//    "records":[{"offset":N,"kind":"event|duplicate|undecodable","content_hash":HEX,
//                "chain_hash":HEX,"record":TEXT (or "record_base64" when not UTF-8)}...],
//    "checkpoints":[{"offset":N,"chain_hash":HEX,"message":TEXT,"public_key":B64,
//                    "signature":B64,"signed_at":TIME}...]}
// csv (RFC 4180, header first): one row per record:
//   offset,kind,content_hash,chain_hash,id,type,entity,system,actor,occurred_at,recorded_at,producer,record

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "events/error.h"
#include "projections/store.h"

namespace ledger::projections {

enum class export_format { json, csv };

/// Parses "json" or "csv"; an error naming `format` otherwise.
[[nodiscard]] result<export_format> parse_export_format(std::string_view text);

/// The export of offsets [from, to] (to < 0: through the head at construction), produced a piece
/// at a time, so an answer of any size is sent without being built in memory. Each piece reads in
/// its own short read transaction: a slow reader of the answer holds no LMDB snapshot (which would
/// keep the projector from reusing pages and from growing the map). The pieces still make the
/// document one snapshot would: the log's rows never change once written, and the bounds (the
/// head, the last checkpoint) are read at construction.
class export_stream {
public:
    export_stream(store& s, export_format format, std::int64_t from = 0, std::int64_t to = -1);

    /// Appends the next piece, about `budget` bytes (at least one record), to `out`. Returns false
    /// once the export is complete; nothing is appended then.
    bool next(std::string& out, std::size_t budget = 64 * 1024);

    /// The records written so far.
    [[nodiscard]] std::uint64_t records() const { return _records; }

private:
    enum class stage { preamble, records, checkpoints_open, checkpoints, done };
    store& _s;
    export_format _format;
    std::int64_t _next;             // the next record's offset
    std::int64_t _last;             // the last record's offset
    std::int64_t _from;
    std::string _last_checkpoint;   // the key of the last checkpoint row at construction ("" none)
    std::string _next_checkpoint;   // the key to continue the checkpoints from
    head _head;
    stage _stage = stage::preamble;
    std::uint64_t _records = 0;
    bool _first_checkpoint = true;
};

/// Writes the export of offsets [from, to] (to < 0: through the head). Returns the records written.
std::uint64_t export_log(store& s, std::ostream& out, export_format format, std::int64_t from = 0,
                         std::int64_t to = -1);

}  // namespace ledger::projections
