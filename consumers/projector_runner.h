#pragma once
// Keeps a data directory's read models current with the ledger topic: assigns partition 0 at
// the applied offset kept in LMDB (no consumer group), reads in order and applies batches
// through projections::projector. A gap in the offsets halts it with an explicit error.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "consumers/partition_reader.h"
#include "projections/projector.h"
#include "projections/store.h"

namespace ledger::consumers {

struct runner_options {
    reader_options reader;
    /// Most records applied in one LMDB transaction. Default: 500. Bigger is slower: an LMDB
    /// transaction's dirty pages are kept in a sorted list, and its cost per record grows with
    /// them (bench/project/stages: 4.5 µs per record in batches of 500, 5.1 at 1,000, 7.2 at
    /// 10,000).
    std::size_t batch_max = 500;
    projections::projector_options projector;
    /// Called on the runner's thread with each checkpoint signed (to publish it). Default: none.
    std::function<void(const projections::checkpoint_row&)> on_checkpoint;
    /// Called with (applied, end) after each batch, for progress output. Default: none.
    std::function<void(std::int64_t next_offset, std::int64_t end_offset)> on_progress;
    /// Stop once this offset (inclusive) is applied; -1: run until stopped. Default: -1.
    std::int64_t stop_after_offset = -1;
    /// Stop once the end of the log is reached (replay). Default: false.
    bool stop_at_end = false;
    /// Stop before the first record for which this answers true (replay --until). Default: none.
    std::function<bool(const projections::prepared_record&)> stop_before;
    /// Threads that hash and decode records beside the reading thread, while the writer applies
    /// the batch before. Default: one less than the cores (at least one, at most seven).
    std::size_t prepare_helpers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8) - 1;
    /// Run the runner's threads (reading, helpers, writer, librdkafka's) as SCHED_BATCH (Linux):
    /// each runs its share of the cores but none preempts another when it wakes, so the writer
    /// (the one thread that cannot be shared out) is not cut short by the reading side's every
    /// wake-up. For catching up (replay); a live projector keeps the default, for the latency
    /// of each new record. Default: false.
    bool batch_scheduling = false;
};

enum class runner_state { starting, catching_up, running, stalled, stopped };
[[nodiscard]] std::string_view to_string(runner_state s) noexcept;

struct runner_status {
    runner_state state = runner_state::starting;
    std::int64_t next_offset = 0;  ///< the next offset to apply (applied through next_offset - 1)
    std::int64_t end_offset = -1;  ///< the log's end as last seen (-1: not yet known)
    std::string error;             ///< why it stalled
    bool log_mismatch = false;     ///< stalled because the topic is no longer the directory's log
    std::uint64_t applied_records = 0;
    double last_apply_ms = 0;      ///< the last batch's transaction, per record
    std::uint64_t checkpoints = 0;
    double sla_seconds = 0;        ///< time spent in the SLA engine by this process
    // Where the projector's time went in this process, in seconds (a replay prints them). The
    // reading thread reads from Kafka, then hashes and decodes (with its helpers), and waits when
    // the writer has max_in_flight batches queued; the writer's thread applies them meanwhile.
    double read_seconds = 0;          ///< reading thread: taking records from Kafka (and waiting for them)
    double prepare_seconds = 0;       ///< reading thread: hashing and decoding, with the helpers
    double writer_wait_seconds = 0;   ///< reading thread: waiting for the writer to take a batch
    double write_seconds = 0;         ///< writer's thread: applying batches (LMDB transactions)

    /// Records in Kafka not yet applied (0 while the end is unknown).
    [[nodiscard]] std::int64_t lag() const { return end_offset < 0 ? 0 : std::max<std::int64_t>(0, end_offset - next_offset); }
};

class projector_runner {
public:
    projector_runner(projections::store& store, runner_options options);
    ~projector_runner();
    projector_runner(const projector_runner&) = delete;
    projector_runner& operator=(const projector_runner&) = delete;

    void start();
    /// Stops reading; the last batch is committed or not at all. Idempotent.
    void stop();
    /// Blocks until the runner stopped by itself (stop_at_end, stop_after_offset, stall).
    void join();

    [[nodiscard]] runner_status status() const;
    /// Waits until offset `offset` is applied; false on timeout or stall.
    [[nodiscard]] bool wait_for(std::int64_t offset, std::chrono::milliseconds timeout) const;

private:
    void loop(std::stop_token stop);
    void set_stalled(std::string why);

    projections::store& _store;
    runner_options _options;
    projections::projector _projector;
    mutable std::mutex _mu;
    mutable std::condition_variable _cv;
    runner_status _status;
    std::jthread _thread;
};

}  // namespace ledger::consumers
