#include "consumers/projector_runner.h"

#include <future>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ledger::consumers {

std::string_view to_string(runner_state s) noexcept {
    switch (s) {
        case runner_state::starting: return "starting";
        case runner_state::catching_up: return "catching_up";
        case runner_state::running: return "running";
        case runner_state::stalled: return "stalled";
        case runner_state::stopped: return "stopped";
    }
    return "unknown";
}

projector_runner::projector_runner(projections::store& store, runner_options options)
    : _store(store), _options(std::move(options)), _projector(store, _options.projector) {
    _status.next_offset = _store.current_head().next_offset;
}

projector_runner::~projector_runner() { stop(); }

void projector_runner::start() {
    _thread = std::jthread([this](std::stop_token st) { loop(st); });
}

void projector_runner::stop() {
    if (_thread.joinable()) {
        _thread.request_stop();
        _thread.join();
    }
}

void projector_runner::join() {
    if (_thread.joinable()) _thread.join();
}

runner_status projector_runner::status() const {
    std::lock_guard lock(_mu);
    return _status;
}

bool projector_runner::wait_for(std::int64_t offset, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(_mu);
    return _cv.wait_for(lock, timeout, [&] {
        return _status.next_offset > offset || _status.state == runner_state::stalled;
    }) && _status.next_offset > offset;
}

void projector_runner::set_stalled(std::string why) {
    spdlog::error("projector stalled: {}", why);
    std::lock_guard lock(_mu);
    _status.state = runner_state::stalled;
    _status.error = std::move(why);
    _cv.notify_all();
}

namespace {

/// A batch being applied on its own thread while the next one is read and decoded.
struct in_flight {
    std::vector<projections::prepared_record> records;
    std::future<result<projections::batch_result>> done;
    double ms = 0;
};

}  // namespace

void projector_runner::loop(std::stop_token stop) {
    const auto& topic = _store.topic();
    // Reading, hashing and decoding (this thread) overlap with the LMDB writes of the previous
    // batch (its own thread): one batch is in flight at most, and it is settled before any
    // decision that depends on what has been applied (the end of the log, a limit, a reopen).
    std::unique_ptr<in_flight> pending;
    // With _mu held: running once caught up with the end of the log as last seen (from the
    // broker or an end-of-partition), else catching up.
    auto refresh_state = [&] {
        _status.state = _status.next_offset >= _status.end_offset ? runner_state::running : runner_state::catching_up;
    };
    auto settle = [&]() -> bool {
        if (!pending) return true;
        auto applied = pending->done.get();
        const auto count = pending->records.size();
        const double ms = pending->ms;
        pending.reset();  // the batch's memory is freed here, not on the writer's thread
        if (!applied) {
            set_stalled(applied.error().message);
            return false;
        }
        for (const auto& cp : applied.value().checkpoints) {
            if (_options.on_checkpoint) _options.on_checkpoint(cp);
        }
        runner_status snapshot;
        {
            std::lock_guard lock(_mu);
            _status.next_offset = applied.value().after.next_offset;
            _status.applied_records += applied.value().applied;
            _status.checkpoints += applied.value().checkpoints.size();
            _status.last_apply_ms = ms / static_cast<double>(count);
            if (_status.end_offset < _status.next_offset) _status.end_offset = _status.next_offset;
            refresh_state();
            snapshot = _status;
            _cv.notify_all();
        }
        if (_options.on_progress) _options.on_progress(snapshot.next_offset, snapshot.end_offset);
        return true;
    };
    auto launch = [&](std::vector<projections::prepared_record> records) {
        pending = std::make_unique<in_flight>();
        pending->records = std::move(records);
        auto* job = pending.get();
        job->done = std::async(std::launch::async, [this, job] {
            const auto t0 = std::chrono::steady_clock::now();
            auto r = _projector.apply(job->records);
            job->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            return r;
        });
    };
    auto finish = [&](runner_state state) {
        std::lock_guard lock(_mu);
        if (_status.state != runner_state::stalled) _status.state = state;
        _cv.notify_all();
    };

    while (!stop.stop_requested()) {
        const auto next = _store.current_head().next_offset;
        if (_options.stop_after_offset >= 0 && next > _options.stop_after_offset) break;
        auto opened = partition_reader::open(_options.reader, topic, ledger_offset{next});
        if (!opened) {
            spdlog::error("projector: cannot read {}: {}", topic, opened.error().message);
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        auto& reader = *opened.value();
        if (auto hw = reader.high_watermark(std::chrono::milliseconds(2000))) {
            std::lock_guard lock(_mu);
            _status.end_offset = hw.value().value();
            if (_status.state == runner_state::starting) _status.state = runner_state::catching_up;
        }
        bool reopen = false;
        while (!stop.stop_requested() && !reopen) {
            std::vector<projections::prepared_record> batch;
            batch.reserve(_options.batch_max);
            bool at_end = false;
            bool limit_reached = false;
            auto timeout = std::chrono::milliseconds(200);
            while (batch.size() < _options.batch_max) {
                auto polled = reader.poll(timeout);
                if (!polled) {
                    if (polled.error().code == make_error_code(errc::offset_out_of_range)) {
                        if (settle()) {
                            set_stalled(fmt::format("Offset {} is no longer in {}: records were deleted before the "
                                                    "projector applied them. The projector stops here. ({})",
                                                    _store.current_head().next_offset, topic,
                                                    polled.error().message));
                        }
                        return;
                    }
                    spdlog::error("projector: reading {}: {}", topic, polled.error().message);
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    reopen = true;
                    break;
                }
                if (auto* rec = std::get_if<record>(&polled.value())) {
                    if (_options.stop_before && _options.stop_before(*rec)) {
                        limit_reached = true;
                        break;
                    }
                    if (_options.stop_after_offset >= 0 && rec->offset.value() > _options.stop_after_offset) {
                        limit_reached = true;
                        break;
                    }
                    batch.push_back(projections::prepare(
                        projections::raw_record{rec->offset.value(), std::move(rec->payload)}));
                    timeout = std::chrono::milliseconds(0);
                    if (_options.stop_after_offset >= 0 && rec->offset.value() >= _options.stop_after_offset) {
                        limit_reached = true;
                        break;
                    }
                } else if (auto* eof = std::get_if<end_of_partition>(&polled.value())) {
                    at_end = true;
                    std::lock_guard lock(_mu);
                    _status.end_offset = eof->next.value();
                    break;
                } else {
                    break;  // timed out: apply what there is
                }
            }
            if (!settle()) return;
            const bool full = batch.size() >= _options.batch_max;
            if (!batch.empty()) launch(std::move(batch));
            // A full batch in the middle of the log stays in flight while the next is read.
            if (full && !at_end && !limit_reached && !reopen) continue;
            if (!settle()) return;
            std::int64_t applied_to = 0;
            std::int64_t end = 0;
            {
                std::lock_guard lock(_mu);
                refresh_state();
                applied_to = _status.next_offset;
                end = _status.end_offset;
                _cv.notify_all();
            }
            if (_options.stop_after_offset >= 0 && applied_to > _options.stop_after_offset) {
                finish(runner_state::stopped);
                return;
            }
            if (limit_reached || (_options.stop_at_end && at_end && applied_to >= end)) {
                finish(runner_state::stopped);
                return;
            }
        }
        if (!settle()) return;
    }
    if (!settle()) return;
    finish(runner_state::stopped);
}

}  // namespace ledger::consumers
