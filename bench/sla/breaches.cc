// Times "breaches as of T" on a data directory: projections::breaches_text() as GET /v1/breaches
// runs it (the deadline index scanned up to T, each candidate's state computed as of T), repeated,
// and prints the median and the count, with the number of obligations in the directory.
//   sla_breaches DATA_DIR [--as-of TIME]... [--runs N]
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "events/time.h"
#include "projections/model.h"
#include "projections/sla_queries.h"
#include "projections/store.h"

int main(int argc, char** argv) {
    CLI::App app{"Times breaches as of a time over a data directory's obligations."};
    std::string data;
    std::vector<std::string> times;
    int runs = 5;
    app.add_option("data", data, "data directory")->required();
    app.add_option("--as-of", times, "RFC 3339 times (default: now)");
    app.add_option("--runs", runs, "runs per time");
    CLI11_PARSE(app, argc, argv);

    auto opened = ledger::projections::store::open(data, "", false);
    if (!opened) {
        fmt::print(stderr, "{}\n", opened.error().message);
        return 1;
    }
    auto& s = *opened.value();
    std::size_t obligations = 0, indexed = 0;
    {
        ledger::projections::store::reader r(s);
        MDB_stat st{};
        mdb_stat(r.get(), s.obligations.handle, &st);
        obligations = st.ms_entries;
        mdb_stat(r.get(), s.deadlines.handle, &st);
        indexed = st.ms_entries;
    }
    fmt::print("obligations {}  (in the deadline index: {})\n", obligations, indexed);
    if (times.empty()) times.push_back("");
    for (const auto& t : times) {
        ledger::projections::obligation_filter f;
        if (!t.empty()) {
            const auto p = ledger::events::parse_rfc3339(t);
            if (p.problem != ledger::events::time_problem::none) {
                fmt::print(stderr, "--as-of {} is not RFC 3339\n", t);
                return 2;
            }
            f.as_of_us = p.at.time_since_epoch().count();
        }
        std::vector<double> ms;
        std::size_t count = 0;
        for (int i = 0; i < runs; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            const auto body = ledger::projections::breaches_text(s, f);  // the API's answer
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            count = 0;  // counted outside the timing
            for (std::size_t at = body.find("\"obligation\":"); at != std::string::npos;
                 at = body.find("\"obligation\":", at + 1)) {
                ++count;
            }
        }
        std::sort(ms.begin(), ms.end());
        fmt::print("breaches as of {:<26} {:>8} breaches  median {:8.1f} ms  (min {:.1f}, max {:.1f}, {} runs)\n",
                   t.empty() ? "now" : t, count, ms[ms.size() / 2], ms.front(), ms.back(), runs);
    }
    return 0;
}
