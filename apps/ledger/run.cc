// `ledger run`: gateway, projector and query API in one process (interface.md).

#include <csignal>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/health.h"
#include "api/server.h"
#include "apps/ledger/commands.h"
#include "apps/ledger/options.h"
#include "events/ledger_name.h"
#include "producers/ledger_topic.h"

namespace ledger::app {
namespace {

// Blocks SIGINT and SIGTERM in this thread and every thread started after, so that the main
// thread alone receives them through sigwait().
sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

int run(const serving_options& o) {
    if (!set_log_level(o.log_level)) {
        fmt::print(stderr, "ledger run: unknown --log-level '{}'\n", o.log_level);
        return exit_usage;
    }
    auto name = events::ledger_name::parse(o.ledger);
    if (!name) {
        fmt::print(stderr, "ledger run: --ledger: {}\n", name.error().message);
        return exit_usage;
    }
    const sigset_t stop_signals = block_stop_signals();

    producers::topic_options topic_opts;
    topic_opts.brokers = o.brokers;
    auto topic = producers::ensure_ledger_topic(topic_opts, name.value().topic());
    if (!topic) {
        const auto& e = topic.error();
        fmt::print(stderr, "ledger run: {}{}\n", e.message,
                   e.field.empty() ? "" : fmt::format(" (setting: {})", e.field));
        return exit_failure;
    }
    spdlog::info("ledger {}: topic {} ({} partition, replication {}){}", name.value().str(), topic.value().name,
                 topic.value().partitions, topic.value().replication, topic.value().created ? ", created" : "");

    std::error_code ec;
    std::filesystem::create_directories(o.data_dir(), ec);
    if (ec) {
        fmt::print(stderr, "ledger run: --data {}: {}\n", o.data_dir(), ec.message());
        return exit_failure;
    }

    auto routes = std::make_shared<api::router>();
    api::add_health_routes(*routes, api::node_info{name.value().str(), name.value().topic(), "0.1.0", "run"});

    api::server_options server_opts;
    server_opts.listen = o.listen;
    api::server http(server_opts, routes);
    if (auto started = http.start(); !started) {
        fmt::print(stderr, "ledger run: --listen: {}\n", started.error().message);
        return exit_failure;
    }
    const auto endpoint = http.local_endpoint();
    spdlog::info("ledger {}: serving http://{}:{}", name.value().str(), endpoint.address().to_string(),
                 endpoint.port());

    int signal = 0;
    sigwait(&stop_signals, &signal);
    spdlog::info("ledger {}: {} received, stopping", name.value().str(), signal == SIGINT ? "SIGINT" : "SIGTERM");
    http.stop();
    spdlog::info("ledger {}: stopped", name.value().str());
    return exit_ok;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<serving_options>();
    auto* cmd = app.add_subcommand("run", "Run the ledger: gateway, projector and query API in one process.");
    cmd->footer(
        "Makes sure the topic ledger.<name> exists with one partition and settings that never delete or\n"
        "compact audit data (refusing, with exit code 1, a topic that would), then serves HTTP until\n"
        "SIGINT or SIGTERM. Every flag can also be set as LEDGER_<NAME>, e.g. LEDGER_BROKERS.");
    add_serving_flags(*cmd, *options);
    cmd->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace ledger::app
