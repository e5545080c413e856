#include "consumers/verify_kafka.h"

#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "projections/checkpoints.h"

namespace ledger::consumers {

std::vector<projections::checkpoint_row> read_published_checkpoints(const reader_options& options,
                                                                   const std::string& ledger_topic,
                                                                   std::vector<std::string>& unreadable) {
    std::vector<projections::checkpoint_row> out;
    const auto topic = ledger_topic + ".checkpoints";
    auto reader = partition_reader::open(options, topic, ledger_offset{0});
    if (!reader) {
        unreadable.push_back(fmt::format("cannot read {}: {}", topic, reader.error().message));
        return out;
    }
    const auto hw = reader.value()->high_watermark(std::chrono::seconds(10));
    if (!hw) {
        unreadable.push_back(fmt::format("cannot read {}: {}", topic, hw.error().message));
        return out;
    }
    const std::int64_t end = hw.value().value();
    std::int64_t next = 0;
    while (next < end) {
        auto polled = reader.value()->poll(std::chrono::seconds(10));
        if (!polled) {
            unreadable.push_back(fmt::format("{} stopped at offset {}: {}", topic, next, polled.error().message));
            break;
        }
        if (auto* rec = std::get_if<record>(&polled.value())) {
            next = rec->offset.value() + 1;
            auto cp = projections::parse_checkpoint_record(rec->payload);
            if (!cp) {
                unreadable.push_back(fmt::format("{} offset {}: {}", topic, rec->offset.value(), cp.error().message));
            } else if (cp.value().ledger == ledger_topic) {
                out.push_back(std::move(cp.value().row));
            }
        } else if (std::holds_alternative<timed_out>(polled.value())) {
            unreadable.push_back(fmt::format("{}: no record within 10 s at offset {} of {}", topic, next, end));
            break;
        }
    }
    return out;
}

result<projections::verify_report> verify_from_kafka(projections::store& live, const reader_options& options,
                                                     const std::function<void(std::int64_t, std::int64_t)>& progress,
                                                     const verify_options& verify) {
    std::vector<std::string> unreadable;
    auto published = read_published_checkpoints(options, live.topic(), unreadable);
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
        v.use_published(std::move(published));
        if (verify.key) {
            v.pin_key(*verify.key, verify.key_source);
        } else if (live.signs() && !live.public_key().empty()) {
            v.pin_key(live.public_key(), "the data directory's own key (it signs this ledger's checkpoints)");
        }
        if (verify.producers) v.check_producers(*verify.producers, verify.producers_source);
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
                    v.feed(rec->offset.value(), rec->payload, rec->timestamp_ms);
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
        if (auto h = reader->high_watermark(std::chrono::seconds(10))) log_end = h.value().value();
        report = v.finish(log_end);
    }
    for (auto& u : unreadable) report->warnings.push_back(std::move(u));
    return *report;
}

}  // namespace ledger::consumers
