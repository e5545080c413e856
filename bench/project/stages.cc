// The projection's two stages timed apart, without Kafka, on records read from a file (one
// record per line, e.g. `kcat -C -t ledger.NAME -e -f '%s\n'`): the reading thread's work
// (parse_json alone, then prepare(): SHA-256 and decoding) and the writer's (projector::apply
// into a fresh LMDB directory, in batches). Prints µs per record for each, so a change to one
// stage is measured without the other's noise or the broker's.
//   project_stages FILE DATA_DIR [--batch N] [--every N]
// --every N also prints the writer's µs per record (wall, user, system) for each N records, to
// see how its cost moves as the read models grow.
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "events/event.h"
#include "projections/projector.h"
#include "projections/store.h"

namespace {
using clock_type = std::chrono::steady_clock;
double us_per(clock_type::duration d, std::size_t n) {
    return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}
/// This thread's CPU time so far, user and system, in µs.
std::pair<double, double> cpu_us() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
    return {us(u.ru_utime), us(u.ru_stime)};
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Times the projection's stages apart, without Kafka."};
    std::string file, data;
    std::size_t batch = 500;  // as the runner (consumers::runner_options::batch_max)
    app.add_option("file", file, "records, one per line")->required();
    app.add_option("data", data, "a new LMDB data directory")->required();
    app.add_option("--batch", batch, "records per write transaction (default 500, as the runner)");
    std::size_t every = 0;
    app.add_option("--every", every, "also print the writer's cost for each N records (0: not)");
    CLI11_PARSE(app, argc, argv);

    std::vector<std::string> lines;
    {
        std::ifstream in(file);
        for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
    }
    const auto n = lines.size();
    if (n == 0) {
        std::cerr << "no records in " << file << "\n";
        return 1;
    }

    auto t0 = clock_type::now();
    std::size_t objects = 0;
    for (const auto& l : lines) objects += ledger::events::parse_json(l).has_value() ? 1 : 0;
    const auto parse = clock_type::now() - t0;

    // prepare() as the reading thread runs it: each result dropped before the next (the
    // pass after this one keeps them all for apply, and pays for that memory).
    t0 = clock_type::now();
    std::size_t events = 0;
    for (std::size_t i = 0; i < n; ++i) {
        events += ledger::projections::prepare({static_cast<std::int64_t>(i), lines[i]}).event.has_value() ? 1 : 0;
    }
    const auto prep = clock_type::now() - t0;

    std::vector<ledger::projections::prepared_record> prepared;
    prepared.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        prepared.push_back(ledger::projections::prepare({static_cast<std::int64_t>(i), lines[i]}));
    }
    // The chain hashes, computed ahead as the reading thread does in a replay (not timed): the
    // writer then only checks that each continues its head.
    ledger::projections::head through;
    ledger::projections::chain_ahead(prepared, through);

    auto opened = ledger::projections::store::open(data, "ledger.stages", true, true);
    if (!opened) {
        std::cerr << opened.error().message << "\n";
        return 1;
    }
    auto& s = *opened.value();
    ledger::projections::projector p(s);
    std::cerr << "applying" << std::endl;  // a profiler can attach to the writer stage from here
    t0 = clock_type::now();
    const auto cpu0 = cpu_us();
    std::vector<ledger::projections::prepared_record> chunk;
    auto part_t0 = t0;
    auto part_cpu0 = cpu0;
    std::size_t part_start = 0;
    // The writer's cost over the records from part_start to `end`; the next slice starts there.
    auto report_slice = [&](std::size_t end) {
        const auto now = clock_type::now();
        const auto cpu = cpu_us();
        const auto k = static_cast<double>(end - part_start);
        fmt::print(stderr, "  records {:>9}-{:<9} apply {:6.2f} µs/record ({:.2f} user, {:.2f} system)\n", part_start,
                   end, us_per(now - part_t0, end - part_start), (cpu.first - part_cpu0.first) / k,
                   (cpu.second - part_cpu0.second) / k);
        part_t0 = now;
        part_cpu0 = cpu;
        part_start = end;
    };
    for (std::size_t i = 0; i < n; i += batch) {
        if (every > 0 && i - part_start >= every) report_slice(i);
        chunk.assign(std::make_move_iterator(prepared.begin() + static_cast<std::ptrdiff_t>(i)),
                     std::make_move_iterator(prepared.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + batch))));
        auto r = p.apply(chunk);
        if (!r) {
            std::cerr << r.error().message << "\n";
            return 1;
        }
    }
    if (every > 0 && n > part_start) report_slice(n);
    const auto write = clock_type::now() - t0;
    const auto cpu1 = cpu_us();
    s.lmdb().sync();

    fmt::print("records {}  (parsed as JSON {}, events {})\n", n, objects, events);
    fmt::print("parse_json   {:7.2f} µs/record\n", us_per(parse, n));
    fmt::print("prepare      {:7.2f} µs/record  (reading thread: SHA-256 + parse + decode)\n", us_per(prep, n));
    fmt::print("apply        {:7.2f} µs/record  (writer thread: LMDB, batches of {})\n", us_per(write, n), batch);
    // System time is mostly the commit's copy into the page cache, whose cost on a virtual machine
    // depends on whether the host still backs the pages; user time is the code's own.
    fmt::print("  of which   {:7.2f} µs user, {:.2f} µs system\n", (cpu1.first - cpu0.first) / static_cast<double>(n),
               (cpu1.second - cpu0.second) / static_cast<double>(n));
    return 0;
}
