#pragma once
// A data directory is bound to the log it was built from: before a projector continues it, the
// topic must still hold that log. A copied directory against another broker, an emptied broker or
// a deleted-and-recreated topic would otherwise be served as if it were the ledger (old read models,
// new writes at offset 0 that the projector never applies).

#include <string>

#include "consumers/partition_reader.h"
#include "events/error.h"
#include "projections/store.h"

namespace ledger::consumers {

/// Checks that `topic` on the brokers holds the records `dir` was built from: at least as many
/// records, the same first record and the same record at the last applied offset (content hashes),
/// which with the chain binds every record between. A new directory (nothing applied) passes. The
/// error names the data directory, the topic and what differs. (librdkafka 2.0.2 does not expose
/// Kafka's topic id, so the records themselves are the identity.)
[[nodiscard]] result<void> check_log_identity(projections::store& dir, const reader_options& options);

}  // namespace ledger::consumers
