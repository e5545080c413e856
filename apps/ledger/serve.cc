#include "apps/ledger/serve.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/gateway.h"
#include "api/health.h"
#include "api/server.h"
#include "api/tokens.h"
#include "api/write_handlers.h"
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

const char* role_name(role r) { return r == role::run ? "run" : "gateway"; }

}  // namespace

int serve(const serving_options& o, role r, bool tokens_given) {
    const std::string cmd = fmt::format("ledger {}", role_name(r));
    if (!set_log_level(o.log_level)) {
        fmt::print(stderr, "{}: unknown --log-level '{}'\n", cmd, o.log_level);
        return exit_usage;
    }
    auto name = events::ledger_name::parse(o.ledger);
    if (!name) {
        fmt::print(stderr, "{}: --ledger: {}\n", cmd, name.error().message);
        return exit_usage;
    }
    const sigset_t stop_signals = block_stop_signals();

    auto tokens = std::make_shared<api::token_store>();
    if (std::filesystem::exists(o.tokens)) {
        auto loaded = api::token_store::load(o.tokens);
        if (!loaded) {
            fmt::print(stderr, "{}: --tokens: {}\n", cmd, loaded.error().message);
            return exit_failure;
        }
        tokens = std::make_shared<api::token_store>(std::move(loaded).value());
        spdlog::info("{} token(s) from {}", tokens->size(), o.tokens);
    } else if (tokens_given) {
        fmt::print(stderr, "{}: --tokens: the tokens file {} does not exist.\n", cmd, o.tokens);
        return exit_failure;
    } else {
        spdlog::warn("no tokens file at {}: every request that needs a token will get 401 "
                     "(./ops/run creates one; see README)",
                     o.tokens);
    }

    producers::topic_options topic_opts;
    topic_opts.brokers = o.brokers;
    auto topic = producers::ensure_ledger_topic(topic_opts, name.value().topic());
    if (!topic) {
        const auto& e = topic.error();
        fmt::print(stderr, "{}: {}{}\n", cmd, e.message, e.field.empty() ? "" : fmt::format(" (setting: {})", e.field));
        return exit_failure;
    }
    spdlog::info("ledger {}: topic {} ({} partition, replication {}){}", name.value().str(), topic.value().name,
                 topic.value().partitions, topic.value().replication, topic.value().created ? ", created" : "");

    std::error_code ec;
    std::filesystem::create_directories(o.data_dir(), ec);
    if (ec) {
        fmt::print(stderr, "{}: --data {}: {}\n", cmd, o.data_dir(), ec.message());
        return exit_failure;
    }

    api::gateway_options gw_opts;
    gw_opts.brokers = o.brokers;
    gw_opts.topic = name.value().topic();
    gw_opts.linger = std::chrono::milliseconds(o.linger_ms);
    if (const char* fault = std::getenv("LEDGER_FAULT"); fault && std::string_view(fault) == "exit_after_ack") {
        gw_opts.exit_after_ack = true;
        spdlog::warn("LEDGER_FAULT=exit_after_ack: this process exits after the next acknowledged event");
    }
    auto gw = api::gateway::start(gw_opts);
    if (!gw) {
        fmt::print(stderr, "{}: {}\n", cmd, gw.error().message);
        return exit_failure;
    }
    std::shared_ptr<api::gateway> gateway = std::move(gw).value();

    auto routes = std::make_shared<api::router>();
    api::add_health_routes(*routes, api::node_info{name.value().str(), name.value().topic(), "0.1.0", role_name(r)});
    api::add_write_routes(*routes, gateway, tokens);

    api::server_options server_opts;
    server_opts.listen = o.listen;
    server_opts.threads = o.http_threads;
    server_opts.body_limit = api::max_event_body;
    server_opts.body_limit_for = api::body_limit_for;
    api::server http(server_opts, routes);
    if (auto started = http.start(); !started) {
        fmt::print(stderr, "{}: --listen: {}\n", cmd, started.error().message);
        return exit_failure;
    }
    const auto endpoint = http.local_endpoint();
    spdlog::info("ledger {}: serving http://{}:{}", name.value().str(), endpoint.address().to_string(),
                 endpoint.port());

    int signal = 0;
    sigwait(&stop_signals, &signal);
    spdlog::info("ledger {}: {} received, stopping", name.value().str(), signal == SIGINT ? "SIGINT" : "SIGTERM");
    http.stop();       // answers requests in flight first (up to 5 s)
    gateway.reset();   // then flushes what Kafka has not acknowledged yet
    spdlog::info("ledger {}: stopped", name.value().str());
    return exit_ok;
}

void add_serving_command(CLI::App& app, int& exit_code, const char* name, const char* description, role r) {
    auto options = std::make_shared<serving_options>();
    auto* cmd = app.add_subcommand(name, description);
    cmd->footer(
        "Makes sure the topic ledger.<name> exists with one partition and settings that never delete or\n"
        "compact audit data (refusing, with exit code 1, a topic that would), indexes the event ids\n"
        "already in it, then serves HTTP until SIGINT or SIGTERM. Every flag can also be set as\n"
        "LEDGER_<NAME>, e.g. LEDGER_BROKERS.");
    add_serving_flags(*cmd, *options);
    cmd->callback([options, &exit_code, cmd, r] {
        exit_code = serve(*options, r, cmd->get_option("--tokens")->count() > 0);
    });
}

}  // namespace ledger::app
