#include "consumers/log_identity.h"

#include <fmt/format.h>

#include "events/hash.h"
#include "projections/model.h"

namespace ledger::consumers {
namespace {

/// The content hash of the record at `offset` as Kafka holds it, or an error.
result<std::string> kafka_content_hash(const reader_options& options, const std::string& topic, std::int64_t offset) {
    auto reader = LEDGER_TRY_VALUE(partition_reader::open(options, topic, ledger_offset{offset}));
    for (int tries = 0; tries < 50; ++tries) {
        auto polled = LEDGER_TRY_VALUE(reader->poll(std::chrono::milliseconds(200)));
        if (auto* rec = std::get_if<record>(&polled)) {
            if (rec->offset.value() != offset) break;
            return events::as_bytes(events::sha256(rec->payload));
        }
    }
    return failure(errc::offset_out_of_range, fmt::format("no record at offset {} of {} within 10 s", offset, topic));
}

/// The content hash the directory holds for `offset`.
std::string stored_content_hash(projections::store& s, std::int64_t offset) {
    projections::store::reader r(s);
    const auto v = r.txn().get(s.log, projections::be64(static_cast<std::uint64_t>(offset)));
    return v ? projections::decode<projections::log_row>(*v).content_hash : std::string();
}

}  // namespace

result<void> check_log_identity(projections::store& dir, const reader_options& options) {
    const auto head = dir.current_head();
    if (head.next_offset == 0) return boost::outcome_v2::success();
    const auto& topic = dir.topic();
    const auto what = fmt::format("{} was built from {} records of {} (through offset {}, chain hash {})",
                                  dir.dir().string(), head.next_offset, topic, head.next_offset - 1,
                                  events::to_hex(head.chain));
    auto refuse = [&](const std::string& differs) {
        return failure(projections::errc::format_mismatch,
                       fmt::format("{}, but {} on {} {}: it is not the log this directory was built from (a copied "
                                   "directory, an emptied broker or a recreated topic). Refusing to serve it: point "
                                   "--brokers at that log, or replay this topic into a new directory.",
                                   what, topic, options.brokers, differs),
                       "data");
    };
    auto reader = LEDGER_TRY_VALUE(partition_reader::open(options, topic, ledger_offset{0}));
    const auto marks = LEDGER_TRY_VALUE(reader->watermarks(std::chrono::seconds(10)));
    const auto [low, high] = std::pair{marks.first.value(), marks.second.value()};
    if (high < head.next_offset) {
        return refuse(high == 0 ? std::string("holds no record")
                                : fmt::format("ends at offset {} ({} records)", high - 1, high));
    }
    for (const auto offset : {std::int64_t{0}, head.next_offset - 1}) {
        if (offset < low) continue;  // deleted since (the projector stops there by itself)
        const auto in_kafka = kafka_content_hash(options, topic, offset);
        if (!in_kafka) return in_kafka.error();
        const auto stored = stored_content_hash(dir, offset);
        if (in_kafka.value() != stored) {
            return refuse(fmt::format("holds another record at offset {} (content hash {}, the directory has {})",
                                      offset, events::to_hex(in_kafka.value()), events::to_hex(stored)));
        }
    }
    return boost::outcome_v2::success();
}

}  // namespace ledger::consumers
