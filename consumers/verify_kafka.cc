#include "consumers/verify_kafka.h"

#include <filesystem>
#include <random>

#include <fmt/format.h>

namespace ledger::consumers {

result<projections::verify_report> verify_from_kafka(projections::store& live, const reader_options& options,
                                                     const std::function<void(std::int64_t, std::int64_t)>& progress) {
    const auto scratch = std::filesystem::temp_directory_path() /
                         fmt::format("ledger-verify-{:016x}", std::random_device{}() * 0x9e3779b97f4a7c15ull);
    struct cleanup {
        std::filesystem::path p;
        ~cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    } guard{scratch};
    std::int64_t next = 0;
    std::optional<projections::verify_report> report;
    {
        projections::verifier v(live, scratch);
        auto reader = LEDGER_TRY_VALUE(partition_reader::open(options, live.topic(), ledger_offset{0}));
        std::int64_t target = v.refresh_head();
        const auto hw = reader->high_watermark(std::chrono::seconds(10));
        if (!hw) return hw.error();
        std::int64_t log_end = hw.value().value();
        for (int round = 0; round < 5; ++round) {
            // Everything the read models hold, and everything Kafka holds up to there.
            while (next < target && next < log_end) {
                auto polled = reader->poll(std::chrono::seconds(10));
                if (!polled) {
                    if (polled.error().code == make_error_code(errc::offset_out_of_range)) break;
                    return polled.error();
                }
                if (auto* rec = std::get_if<record>(&polled.value())) {
                    if (rec->offset.value() >= target) break;
                    v.feed(rec->offset.value(), rec->payload);
                    next = rec->offset.value() + 1;
                    if (progress && next % 10000 == 0) progress(next, target);
                } else if (auto* eof = std::get_if<end_of_partition>(&polled.value())) {
                    log_end = eof->next.value();
                    break;
                } else {
                    break;
                }
            }
            const auto moved = v.refresh_head();
            if (moved == target) break;
            target = moved;  // a running projector applied more meanwhile: follow it
            if (auto h = reader->high_watermark(std::chrono::seconds(10))) log_end = h.value().value();
        }
        if (progress) progress(next, target);
        report = v.finish();
    }
    return *report;
}

}  // namespace ledger::consumers
