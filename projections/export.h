#pragma once
// `ledger export`: the log with its evidence, in formats anyone can check with standard tools
// (domain.md 4): every record's exact bytes, content hash and chain hash, and the signed
// checkpoints with the message each signs. Streams from one read snapshot, in offset order.
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
#include <string_view>

#include "events/error.h"
#include "projections/store.h"

namespace ledger::projections {

enum class export_format { json, csv };

/// Parses "json" or "csv"; an error naming `format` otherwise.
[[nodiscard]] result<export_format> parse_export_format(std::string_view text);

/// Writes the export of offsets [from, to] (to < 0: through the head). Returns the records written.
std::uint64_t export_log(store& s, std::ostream& out, export_format format, std::int64_t from = 0,
                         std::int64_t to = -1);

}  // namespace ledger::projections
