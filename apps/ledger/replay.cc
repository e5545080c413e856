// `ledger replay --data DIR [--until TIME | --offset N]`: rebuilds the read models from offset 0
// into a separate directory, up to the last event recorded by TIME or up to offset N, with
// progress (events/s, ETA). The directory is then queried like the live one.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include <malloc.h>
#include <sys/resource.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/read_handlers.h"
#include "apps/ledger/commands.h"
#include "apps/ledger/options.h"
#include "consumers/projector_runner.h"
#include "consumers/verify_kafka.h"
#include "events/ed25519.h"
#include "events/hash.h"
#include "events/ledger_name.h"
#include "events/time.h"
#include "projections/checkpoints.h"
#include "projections/queries.h"
#include "projections/sla_policy.h"
#include "projections/store.h"
#include "projections/verify.h"

namespace ledger::app {
namespace {

struct replay_options {
    std::string brokers = "127.0.0.1:9092";
    std::string ledger = "main";
    std::string data;
    std::string until;
    std::string policy;
    std::int64_t offset = -1;
    bool as_json = false;
    bool quiet = false;
    bool keep_cache = false;
    std::string key;
    std::string log_level = "warn";
};

struct cpu_times {
    double user = 0;
    double system = 0;
};
/// The process's CPU time so far, every thread's, in seconds.
cpu_times process_cpu() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {secs(u.ru_utime), secs(u.ru_stime)};
}

/// A replay is a batch job: the memory malloc frees is kept for the next batches instead of
/// being handed back to the kernel and faulted in again. By default glibc gives large blocks
/// (librdkafka's fetch buffers, up to 16 MiB) their own mappings and trims the free top of each
/// arena past 128 KiB; every page taken again costs a page fault, and on a virtual machine that
/// hands free memory to its host, often a fault of the host as well. Replays of 4M events: minor
/// faults 118-136k against 178-206k; with the same settings as glibc tunables, system time
/// 4.4-6.8 s against 5.8-11.7 s and faster in 8 of 11 alternating pairs (docs/benchmarks.md).
void keep_freed_memory() {
    (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest glibc allows
    (void)mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int replay(const replay_options& o) {
    if (!set_log_level(o.log_level)) {
        fmt::print(stderr, "ledger replay: unknown --log-level '{}'\n", o.log_level);
        return exit_usage;
    }
    keep_freed_memory();
    auto name = events::ledger_name::parse(o.ledger);
    if (!name) {
        fmt::print(stderr, "ledger replay: --ledger: {}\n", name.error().message);
        return exit_usage;
    }
    std::optional<std::int64_t> until_us;
    if (!o.until.empty()) {
        until_us = api::parse_query_time(o.until);
        if (!until_us) {
            fmt::print(stderr, "ledger replay: --until '{}' is not an RFC 3339 time with offset\n", o.until);
            return exit_usage;
        }
    }
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(o.data) / "data.mdb", ec)) {
        fmt::print(stderr, "ledger replay: --data {} already holds read models; replay into a new directory\n", o.data);
        return exit_failure;
    }
    // A replay is worth nothing until it is finished: one flush to disk at the end, not one per batch.
    projections::sla_policy policy;
    if (!o.policy.empty()) {
        auto loaded = projections::sla_policy::load(o.policy);
        if (!loaded) {
            fmt::print(stderr, "ledger replay: --policy: {} ({})\n", loaded.error().message, loaded.error().field);
            return exit_usage;
        }
        policy = std::move(loaded).value();
    }
    std::optional<std::string> pinned_key;
    if (!o.key.empty()) {
        auto k = projections::load_public_key(o.key, "key");
        if (!k) {
            fmt::print(stderr, "ledger replay: --key: {}\n", k.error().message);
            return exit_usage;
        }
        pinned_key = std::move(k).value();
    }
    if (!o.quiet && !o.as_json) fmt::print(stderr, "replay: topic {} on {}\n", name.value().topic(), o.brokers);
    auto opened = projections::store::open(o.data, name.value().topic(), true, true, &policy);
    if (!opened) {
        fmt::print(stderr, "ledger replay: --data: {}\n", opened.error().message);
        return exit_failure;
    }
    auto store = std::move(opened).value();

    consumers::runner_options ropts;
    ropts.reader.brokers = o.brokers;
    ropts.stop_at_end = true;
    ropts.projector.sign = false;  // the ledger's checkpoints are its signer's: they are checked below
    ropts.batch_scheduling = true;  // catching up: none of the projector's threads preempts another
    ropts.stop_after_offset = o.offset;
    if (until_us) {
        const auto limit = *until_us;
        ropts.stop_before = [limit](const projections::prepared_record& r) {
            // The ledger's own clock: recorded_at of the event (the broker's timestamp for a
            // record that is not an event).
            if (r.event) return r.event->recorded.time_since_epoch().count() > limit;
            return r.timestamp_ms * 1000 > limit;
        };
    }
    const auto started = std::chrono::steady_clock::now();
    const auto cpu_before = process_cpu();
    const bool show = !o.quiet && !o.as_json;
    auto last_print = started;
    ropts.on_progress = [&](std::int64_t next, std::int64_t end) {
        const auto now = std::chrono::steady_clock::now();
        if (!show || now - last_print < std::chrono::milliseconds(500)) return;
        last_print = now;
        const double secs = std::chrono::duration<double>(now - started).count();
        const double rate = secs > 0 ? static_cast<double>(next) / secs : 0;
        const auto target = o.offset >= 0 ? std::min(end, o.offset + 1) : end;
        const double eta = rate > 0 && target > next ? static_cast<double>(target - next) / rate : 0;
        fmt::print(stderr, "\rreplay: {} / {} records  {:.0f} events/s  ETA {:.0f} s   ", next, target, rate, eta);
    };
    consumers::projector_runner runner(*store, ropts);
    runner.start();
    // The replay syncs once at the end; without help the kernel would leave most of what it
    // wrote in the page cache until then (a 1M replay: 0.8 GB, 0.25-1.5 s of waiting at the
    // end). Starting the writes every 200 ms lets the disk work while the projector does.
    // What the last round's writes made clean is dropped from the page cache, mapped or not
    // (unless --keep-cache): a replay writes 0.8 GB per 1M events, seldom reads a page of it
    // again, and would otherwise take that much of the machine's memory for its cache; on this
    // VM, memory taken fresh is what made larger replays dearer per event (docs/benchmarks.md).
    std::jthread writeback([&store, drop = !o.keep_cache](std::stop_token stop) {
        std::mutex m;
        std::condition_variable_any wake;
        std::unique_lock lock(m);
        while (!wake.wait_for(lock, stop, std::chrono::milliseconds(200), [&stop] { return stop.stop_requested(); })) {
            if (drop) store->release_page_cache();
            store->lmdb().start_writeback();
        }
    });
    runner.join();
    writeback.request_stop();
    writeback.join();
    const auto st = runner.status();
    if (show) fmt::print(stderr, "\n");
    if (st.state == consumers::runner_state::stalled) {
        fmt::print(stderr, "ledger replay: stopped at offset {}: {}\n", st.next_offset, st.error);
        return exit_failure;
    }
    const auto sync_started = std::chrono::steady_clock::now();
    store->lmdb().sync();
    const double sync_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_started).count();
    const auto h = store->current_head();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto cpu_after = process_cpu();
    const double user_secs = cpu_after.user - cpu_before.user;
    const double system_secs = cpu_after.system - cpu_before.system;
    nlohmann::json out{{"data", o.data},
                       {"applied_offset", h.next_offset - 1},
                       {"records", h.records},
                       {"chain_hash", events::to_hex(h.chain)},
                       {"seconds", secs},
                       {"events_per_second", secs > 0 ? static_cast<double>(h.records) / secs : 0},
                       {"sla_engine_seconds", st.sla_seconds},
                       // Where the time went: the reading side (Kafka, then hashing and decoding,
                       // then waiting while the writer's queue is full) and the writer (LMDB).
                       {"reading_seconds", st.read_seconds},
                       {"decoding_seconds", st.prepare_seconds},
                       {"waiting_for_writer_seconds", st.writer_wait_seconds},
                       {"writing_seconds", st.write_seconds},
                       {"flushing_seconds", sync_secs},
                       // The process's CPU time over the replay, all threads: on a machine where the
                       // projector's threads share the cores, their sum bounds the rate.
                       {"cpu_user_seconds", user_secs},
                       {"cpu_system_seconds", system_secs}};
    // The checkpoints the ledger published for what was replayed: a log rewritten and replayed
    // into a new directory contradicts them.
    std::vector<std::string> unreadable;
    const auto published = consumers::read_published_checkpoints(ropts.reader, name.value().topic(), unreadable);
    std::string key = pinned_key ? *pinned_key : std::string();
    std::string key_source = "--key";
    if (key.empty() && !published.empty()) {
        key = published.front().public_key;
        key_source = "the first published checkpoint (trusted on first use; pass --key to pin it)";
    }
    std::size_t checked = 0;
    const auto problems = projections::check_published(*store, published, key, checked);
    nlohmann::json problems_json = nlohmann::json::array();
    for (const auto& p : problems) problems_json.push_back({{"offset", p.offset}, {"problem", p.problem}});
    out["checkpoints_checked"] = checked;
    out["checkpoint_key"] = key.empty() ? "" : events::base64_encode(key);
    out["checkpoint_key_source"] = key.empty() ? "" : key_source;
    out["problems"] = problems_json;
    const bool short_of_offset = o.offset >= 0 && h.next_offset - 1 < o.offset;
    if (o.as_json) {
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("replayed {} record(s) through offset {} into {} in {:.1f} s; chain {}\n", h.records,
                   h.next_offset - 1, o.data, secs, events::to_hex(h.chain));
        if (checked == 0) {
            fmt::print("no published checkpoint covers what was replayed{}\n",
                       unreadable.empty() ? "" : " (" + unreadable.front() + ")");
        } else {
            fmt::print("{} published checkpoint(s) checked against key {} ({}){}\n", checked,
                       events::base64_encode(key), key_source, problems.empty() ? ": all agree with the log" : "");
        }
        for (const auto& p : problems) fmt::print("offset {}: {}\n", p.offset, p.problem);
        if (!o.quiet) {
            fmt::print("reading side: Kafka {:.1f} s, hashing and decoding {:.1f} s, waiting for the writer {:.1f} s; "
                       "writer: {:.1f} s in LMDB transactions; {:.1f} s flushing to disk at the end; "
                       "CPU {:.1f} s user, {:.1f} s system\n",
                       st.read_seconds, st.prepare_seconds, st.writer_wait_seconds, st.write_seconds, sync_secs,
                       user_secs, system_secs);
        }
    }
    if (short_of_offset) {
        fmt::print(stderr, "ledger replay: --offset {} is past the end of the log {}: its last offset is {}\n",
                   o.offset, name.value().topic(), h.next_offset - 1);
        return exit_failure;
    }
    return problems.empty() ? exit_ok : exit_failure;
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<replay_options>();
    auto* cmd = app.add_subcommand("replay",
                                   "Rebuild the read models from offset 0 into a new directory, up to a time or an offset.");
    cmd->add_option("--brokers", o->brokers, "Kafka bootstrap servers")->envname("LEDGER_BROKERS")->capture_default_str();
    cmd->add_option("--ledger", o->ledger, "Ledger name")->envname("LEDGER_LEDGER")->capture_default_str();
    cmd->add_option("--data", o->data, "New directory for the replayed read models")->required();
    auto* until = cmd->add_option("--until", o->until,
                                  "Stop after the last event the ledger had recorded by this time (recorded_at, RFC 3339)");
    cmd->add_option("--offset", o->offset, "Stop after this offset (inclusive)")->excludes(until)->check(CLI::NonNegativeNumber);
    cmd->add_option("--policy", o->policy, "SLA policy overrides (TOML) [default: built-in]")->envname("LEDGER_POLICY");
    cmd->add_flag("--json", o->as_json,
                  "Print a JSON summary: records, applied_offset, chain_hash, seconds, events_per_second and "
                  "where the time went (reading_seconds, decoding_seconds, waiting_for_writer_seconds, "
                  "writing_seconds, flushing_seconds) and the process's CPU time (cpu_user_seconds, "
                  "cpu_system_seconds)");
    cmd->add_flag("--quiet", o->quiet, "No progress line");
    cmd->add_option("--key", o->key,
                    "The ledger's public key (a file, what `ledger key` prints on the signing node): the published "
                    "checkpoints the replay covers must be signed by it [default: the first one published]");
    cmd->add_flag("--keep-cache", o->keep_cache,
                  "Keep what the replay wrote in the page cache (by default pages already on disk are dropped "
                  "as it goes, so a long replay does not fill the machine's memory with its cache)");
    cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn or error")->capture_default_str();
    cmd->footer("Query the result with the read commands and --data DIR, e.g. ledger status change/CHG-17 --data DIR.");
    cmd->callback([o, &exit_code] { exit_code = replay(*o); });
}

}  // namespace ledger::app
