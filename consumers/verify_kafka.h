#pragma once
// `ledger verify` and GET /v1/verify: reads the ledger topic from offset 0 and checks it
// against a data directory with projections::verifier.

#include <functional>

#include "consumers/partition_reader.h"
#include "projections/store.h"
#include "projections/verify.h"

namespace ledger::consumers {

/// Verifies `live` against the records Kafka holds. `progress(next, end)` is called now and
/// then. Fails only when Kafka cannot be read at all; problems found are in the report.
[[nodiscard]] result<projections::verify_report> verify_from_kafka(
    projections::store& live, const reader_options& options,
    const std::function<void(std::int64_t, std::int64_t)>& progress = {});

}  // namespace ledger::consumers
