#include "consumers/projector_runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "consumers/log_identity.h"

namespace ledger::consumers {
namespace {

/// Makes the calling thread SCHED_BATCH, and with it the threads it starts (the writer, the
/// helpers, librdkafka's): each runs its share, but none preempts another when it wakes. In a
/// replay the writer was preempted ~1,800 times per 1M records by the reading side waking up,
/// and its transactions took 4.4 s of wall time for 3.2 s on a core (perf sched_switch).
/// Unprivileged; a failure only costs speed.
void set_batch_scheduling() {
    sched_param param{};
    if (const int rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &param); rc != 0) {
        spdlog::debug("projector: SCHED_BATCH refused ({})", rc);
    }
}

}  // namespace

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
    _thread = std::jthread([this](std::stop_token st) {
        pthread_setname_np(pthread_self(), "ledger-reader");
        if (_options.batch_scheduling) set_batch_scheduling();
        loop(st);
    });
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

/// A batch being applied on the writer thread while the next one is read and decoded.
struct in_flight {
    std::vector<projections::prepared_record> records;
    std::future<void> done;
    std::optional<result<projections::batch_result>> outcome;
    double ms = 0;
};

/// A thread for the runner's life that runs its jobs one at a time, in the order submitted: the
/// LMDB writer, and the helpers that prepare records beside the reading thread. (A thread per
/// batch cost a thread start per batch and left each batch's allocations to a fresh thread's
/// empty caches.)
class worker_thread {
public:
    /// `name` (at most 15 characters) is what top -H and profilers show for the thread.
    explicit worker_thread(const char* name)
        : _thread([this, name](std::stop_token stop) {
              pthread_setname_np(pthread_self(), name);
              run(stop);
          }) {}
    ~worker_thread() {
        {
            // Under the lock: a stop requested between the thread's check and its wait would be
            // missed, and the join below would wait for ever.
            std::lock_guard lock(_mu);
            _thread.request_stop();
        }
        _cv.notify_all();
    }
    worker_thread(const worker_thread&) = delete;
    worker_thread& operator=(const worker_thread&) = delete;

    std::future<void> submit(std::function<void()> fn) {
        std::packaged_task<void()> task(std::move(fn));
        auto future = task.get_future();
        {
            std::lock_guard lock(_mu);
            _jobs.push_back(std::move(task));
        }
        _cv.notify_one();
        return future;
    }

private:
    void run(std::stop_token stop) {
        for (;;) {
            std::packaged_task<void()> job;
            {
                std::unique_lock lock(_mu);
                _cv.wait(lock, [&] { return stop.stop_requested() || !_jobs.empty(); });
                if (_jobs.empty()) return;
                job = std::move(_jobs.front());
                _jobs.pop_front();
            }
            job();
        }
    }

    std::mutex _mu;
    std::condition_variable _cv;
    std::deque<std::packaged_task<void()>> _jobs;
    std::jthread _thread;  // last: started after the members it uses
};

/// Prepares a batch (SHA-256 and decoding, the reading side's work) on this thread and the
/// helpers together, each taking the next slice of records as it is free: the writer's
/// thread shares the cores, so equal shares fixed in advance would end unevenly.
std::vector<projections::prepared_record> prepare_all(std::vector<projections::raw_record> raw,
                                                      std::vector<std::unique_ptr<worker_thread>>& helpers) {
    std::vector<projections::prepared_record> out(raw.size());
    constexpr std::size_t slice = 32;
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (;;) {
            const std::size_t begin = next.fetch_add(slice, std::memory_order_relaxed);
            if (begin >= raw.size()) return;
            const std::size_t end = std::min(raw.size(), begin + slice);
            for (std::size_t i = begin; i < end; ++i) out[i] = projections::prepare(std::move(raw[i]));
        }
    };
    std::vector<std::future<void>> done;
    if (raw.size() > slice) {
        for (auto& h : helpers) done.push_back(h->submit(work));
    }
    try {
        work();
    } catch (...) {
        for (auto& d : done) d.wait();  // the helpers still use `raw` and `out`
        throw;
    }
    for (auto& d : done) d.get();
    return out;
}

}  // namespace

void projector_runner::loop(std::stop_token stop) {
    const auto& topic = _store.topic();
    // Reading, hashing and decoding (this thread) overlap with the LMDB writes of the batches
    // before (the writer's thread, in order): up to max_in_flight batches are queued, and all are
    // settled before any decision that depends on what has been applied (the end of the log, a
    // limit, a reopen).
    std::deque<std::unique_ptr<in_flight>> pending;  // oldest first
    constexpr std::size_t max_in_flight = 4;
    std::atomic<bool> writer_failed{false};
    worker_thread writer("ledger-writer");
    std::vector<std::unique_ptr<worker_thread>> helpers;
    for (std::size_t i = 0; i < _options.prepare_helpers; ++i) helpers.push_back(std::make_unique<worker_thread>("ledger-prepare"));
    // With _mu held: running once caught up with the end of the log as last seen (from the
    // broker or an end-of-partition), else catching up.
    auto refresh_state = [&] {
        _status.state = _status.next_offset >= _status.end_offset ? runner_state::running : runner_state::catching_up;
    };
    // The reading thread's time since the last batch was settled (published with it).
    using clock = std::chrono::steady_clock;
    using seconds = std::chrono::duration<double>;
    double read_s = 0, prepare_s = 0, wait_s = 0;
    // Settles the oldest batch in flight: waits for it, then publishes what it applied.
    auto settle_oldest = [&]() -> bool {
        auto batch = std::move(pending.front());
        pending.pop_front();
        const auto wait_start = clock::now();
        batch->done.get();
        wait_s += seconds(clock::now() - wait_start).count();
        auto applied = std::move(*batch->outcome);
        const auto count = batch->records.size();
        const double ms = batch->ms;
        batch.reset();  // the batch's memory is freed here, not on the writer's thread
        if (!applied) {  // the writer skips the batches queued behind it (writer_failed)
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
            _status.sla_seconds += std::chrono::duration<double>(applied.value().sla_time).count();
            _status.read_seconds += std::exchange(read_s, 0);
            _status.prepare_seconds += std::exchange(prepare_s, 0);
            _status.writer_wait_seconds += std::exchange(wait_s, 0);
            _status.write_seconds += ms / 1000.0;
            _status.last_apply_ms = ms / static_cast<double>(count);
            if (_status.end_offset < _status.next_offset) _status.end_offset = _status.next_offset;
            refresh_state();
            snapshot = _status;
            _cv.notify_all();
        }
        if (_options.on_progress) _options.on_progress(snapshot.next_offset, snapshot.end_offset);
        return true;
    };
    // Settles every batch in flight; false once one failed (the runner has stalled).
    auto settle = [&]() -> bool {
        while (!pending.empty()) {
            if (!settle_oldest()) {
                while (!pending.empty()) {  // skipped by the writer, see launch
                    pending.front()->done.wait();
                    pending.pop_front();
                }
                return false;
            }
        }
        return true;
    };
    // Queues a batch for the writer. The reading thread goes on to the next batch and waits only
    // when max_in_flight batches are queued, so neither side idles while the other has a batch
    // ready in its hands.
    auto launch = [&](std::vector<projections::prepared_record> records) -> bool {
        if (pending.size() >= max_in_flight && !settle_oldest()) return false;
        auto& job = *pending.emplace_back(std::make_unique<in_flight>());
        job.records = std::move(records);
        job.done = writer.submit([this, &job, &writer_failed] {
            if (writer_failed) {  // a batch before this one failed: applying this would leave a gap
                job.outcome = result<projections::batch_result>(projections::batch_result{});
                return;
            }
            const auto t0 = std::chrono::steady_clock::now();
            job.outcome = _projector.apply(job.records);
            if (!*job.outcome) writer_failed = true;
            job.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        });
        return true;
    };
    // Between batches (none in flight): a checkpoint of the head when one is due, on the writer's
    // thread; false once writing it failed (the runner has stalled).
    auto checkpoint_if_due = [&]() -> bool {
        std::optional<result<std::optional<projections::checkpoint_row>>> due;
        writer.submit([this, &due] { due.emplace(_projector.checkpoint_if_due()); }).get();
        if (!*due) {
            set_stalled(due->error().message);
            return false;
        }
        if (!due->value()) return true;
        if (_options.on_checkpoint) _options.on_checkpoint(*due->value());
        std::lock_guard lock(_mu);
        _status.checkpoints += 1;
        return true;
    };
    auto finish = [&](runner_state state) {
        std::lock_guard lock(_mu);
        if (_status.state != runner_state::stalled) _status.state = state;
        _cv.notify_all();
    };

    bool reopened = false;
    while (!stop.stop_requested()) {
        const auto next = _store.current_head().next_offset;
        if (_options.stop_after_offset >= 0 && next > _options.stop_after_offset) break;
        if (std::exchange(reopened, true)) {
            // After a read error (a topic deleted and created again among them): the topic must
            // still be the log this directory was built from before anything more is applied.
            if (auto bound = check_log_identity(_store, _options.reader); !bound) {
                if (bound.error().code == make_error_code(projections::errc::format_mismatch)) {
                    set_stalled(bound.error().message + " Writes and reads are refused.");
                    std::lock_guard lock(_mu);
                    _status.log_mismatch = true;
                    return;
                }
                spdlog::error("projector: cannot check {} before reading on: {}", topic, bound.error().message);
                std::this_thread::sleep_for(std::chrono::seconds(1));
                continue;
            }
        }
        auto opened = partition_reader::open(_options.reader, topic, ledger_offset{next});
        if (!opened) {
            spdlog::error("projector: cannot read {}: {}", topic, opened.error().message);
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        auto& reader = *opened.value();
        // The head after the records handed to the writer so far (none in flight here): the
        // reading side computes their chain hashes ahead (projections::chain_ahead).
        projections::head chained = _store.current_head();
        if (auto hw = reader.high_watermark(std::chrono::milliseconds(2000))) {
            std::lock_guard lock(_mu);
            _status.end_offset = hw.value().value();
            if (_status.state == runner_state::starting) _status.state = runner_state::catching_up;
        }
        bool reopen = false;
        while (!stop.stop_requested() && !reopen) {
            std::vector<projections::raw_record> raw;
            raw.reserve(_options.batch_max);
            bool at_end = false;
            bool limit_reached = false;
            auto timeout = std::chrono::milliseconds(200);
            const auto read_start = clock::now();
            while (raw.size() < _options.batch_max) {
                auto polled = reader.poll(timeout);
                if (!polled) {
                    if (polled.error().code == make_error_code(errc::offset_out_of_range)) {
                        if (settle()) {
                            const auto next_offset = _store.current_head().next_offset;
                            const auto marks = reader.watermarks(std::chrono::seconds(2));
                            if (marks && marks.value().second.value() < next_offset) {
                                // The topic ends before what this directory applied: emptied or
                                // recreated, it is not the log the directory was built from.
                                set_stalled(fmt::format(
                                    "{} now ends at offset {}, before offset {} where {} continues: the topic was "
                                    "emptied or recreated and is no longer the log this data directory was built "
                                    "from. Writes and reads are refused; restart against that log, or replay the "
                                    "topic into a new directory.",
                                    topic, marks.value().second.value() - 1, next_offset, _store.dir().string()));
                                std::lock_guard lock(_mu);
                                _status.log_mismatch = true;
                            } else {
                                set_stalled(fmt::format("Offset {} is no longer in {}: records were deleted before "
                                                        "the projector applied them. The projector stops here. ({})",
                                                        next_offset, topic, polled.error().message));
                            }
                        }
                        return;
                    }
                    spdlog::error("projector: reading {}: {}", topic, polled.error().message);
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    reopen = true;
                    break;
                }
                if (auto* rec = std::get_if<record>(&polled.value())) {
                    if (_options.stop_after_offset >= 0 && rec->offset.value() > _options.stop_after_offset) {
                        limit_reached = true;
                        break;
                    }
                    raw.push_back(projections::raw_record{rec->offset.value(), std::move(rec->payload),
                                                          rec->timestamp_ms});
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
            const bool full = raw.size() >= _options.batch_max;
            const auto prepare_start = clock::now();
            read_s += seconds(prepare_start - read_start).count();
            auto batch = prepare_all(std::move(raw), helpers);
            projections::chain_ahead(batch, chained);
            prepare_s += seconds(clock::now() - prepare_start).count();
            if (_options.stop_before) {
                const auto last = std::find_if(batch.begin(), batch.end(), _options.stop_before);
                if (last != batch.end()) {
                    batch.erase(last, batch.end());
                    limit_reached = true;
                }
            }
            const bool idle = batch.empty();
            if (!batch.empty() && !launch(std::move(batch))) {
                settle();
                return;
            }
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
            // A quiet ledger: the events applied since the last checkpoint get theirs one
            // checkpoint_interval after it, not with the next event, whenever that comes.
            if (idle && !checkpoint_if_due()) return;
        }
        if (!settle()) return;
    }
    if (!settle()) return;
    finish(runner_state::stopped);
}

}  // namespace ledger::consumers
