#pragma once
// `ledger verify` and GET /v1/verify: reads the ledger topic from offset 0 and checks it
// against a data directory with projections::verifier.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consumers/partition_reader.h"
#include "projections/store.h"
#include "projections/verify.h"

namespace ledger::consumers {

/// The checkpoints published for `ledger_topic` on `<ledger_topic>.checkpoints`, in the order
/// published. Records that are not checkpoints of this ledger are skipped, and each unreadable
/// one is described in `unreadable`. A topic that cannot be read gives none, described there too.
[[nodiscard]] std::vector<projections::checkpoint_row> read_published_checkpoints(
    const reader_options& options, const std::string& ledger_topic, std::vector<std::string>& unreadable);

struct verify_options {
    /// The public key checkpoints must be signed with (--key). Default: the directory's own key
    /// when it is the ledger's signer, else the first published checkpoint's (trusted on first use).
    std::optional<std::string> key;
    std::string key_source = "--key";
    /// The token names records' `producer` must name (from a tokens file), and that file; not
    /// checked without them.
    std::optional<std::set<std::string>> producers;
    std::string producers_source;
};

/// Verifies `live` against the records Kafka holds and the checkpoints published for them.
/// `progress(next, end)` is called now and then. Fails only when Kafka cannot be read at all;
/// problems found are in the report.
[[nodiscard]] result<projections::verify_report> verify_from_kafka(
    projections::store& live, const reader_options& options,
    const std::function<void(std::int64_t, std::int64_t)>& progress = {}, const verify_options& verify = {});

}  // namespace ledger::consumers
