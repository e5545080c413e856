#include "apps/ledger/serve.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/gateway.h"
#include "api/health.h"
#include "api/read_handlers.h"
#include "consumers/projector_runner.h"
#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "events/hash.h"
#include "projections/checkpoints.h"
#include "projections/sla_policy.h"
#include "projections/store.h"
#include "producers/producer.h"
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

const char* role_name(role r) {
    switch (r) {
        case role::run: return "run";
        case role::gateway: return "gateway";
        case role::project: return "project";
        case role::query: return "query";
    }
    return "run";
}

bool writes(role r) { return r == role::run || r == role::gateway; }
bool projects(role r) { return r != role::gateway; }
bool reads(role r) { return r == role::run || r == role::query; }

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

    std::shared_ptr<api::gateway> gateway;
    if (writes(r)) {
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
    gateway = std::move(gw).value();
    }

    // The projector: its own data directory (locked), checkpoints published to Kafka.
    std::shared_ptr<projections::store> store;
    std::shared_ptr<consumers::projector_runner> runner;
    std::shared_ptr<producers::producer> checkpoint_producer;
    if (projects(r)) {
        projections::sla_policy policy;
        if (!o.policy.empty()) {
            auto loaded = projections::sla_policy::load(o.policy);
            if (!loaded) {
                fmt::print(stderr, "{}: --policy: {} ({})\n", cmd, loaded.error().message, loaded.error().field);
                return exit_usage;
            }
            policy = std::move(loaded).value();
        }
        auto opened = projections::store::open(o.data_dir(), name.value().topic(), true, false, &policy);
        if (!opened) {
            fmt::print(stderr, "{}: --data: {}\n", cmd, opened.error().message);
            return exit_failure;
        }
        store = std::move(opened).value();
        const bool sign = o.sign_checkpoints;
        if (sign) {
            store->mark_signer();
            spdlog::info("ledger {}: this process signs the checkpoints (key {})", name.value().str(),
                         events::base64_encode(store->public_key()));
        } else {
            spdlog::info("ledger {}: checkpoints are signed elsewhere (--sign-checkpoints to sign here)",
                         name.value().str());
        }
        const auto cp_topic = name.value().checkpoint_topic();
        if (!sign) {
            // Nothing to publish.
        } else if (auto t = producers::ensure_ledger_topic(topic_opts, cp_topic); !t) {
            spdlog::warn("checkpoints will not be published: {}", t.error().message);
        } else {
            producers::producer_options popts;
            popts.brokers = o.brokers;
            if (auto p = producers::producer::create(popts)) checkpoint_producer = std::move(p).value();
        }
        consumers::runner_options ropts;
        ropts.reader.brokers = o.brokers;
        const auto topic_name = name.value().topic();
        ropts.on_checkpoint = [checkpoint_producer, cp_topic, topic_name](const projections::checkpoint_row& cp) {
            if (!checkpoint_producer) return;
            checkpoint_producer->append(cp_topic, std::to_string(cp.offset), projections::checkpoint_record(topic_name, cp),
                                        [offset = cp.offset](result<ledger_coordinates> done) {
                                            if (!done) {
                                                spdlog::warn("checkpoint at offset {} not published: {}", offset,
                                                             done.error().message);
                                            }
                                        });
        };
        ropts.stop_at_end = o.exit_at_end;
        ropts.projector.sign = sign;
        runner = std::make_shared<consumers::projector_runner>(*store, ropts);
        runner->start();
        spdlog::info("ledger {}: projecting into {} from offset {}", name.value().str(), o.data_dir(),
                     runner->status().next_offset);
    }

    auto routes = std::make_shared<api::router>();
    api::node_info info{name.value().str(), name.value().topic(), "0.1.0", role_name(r), std::chrono::steady_clock::now(),
                        {}};
    if (runner) {
        info.projector = [runner] {
            const auto st = runner->status();
            nlohmann::json j{{"state", consumers::to_string(st.state)},
                             {"applied_offset", st.next_offset - 1},
                             {"end_offset", st.end_offset},
                             {"lag", st.lag()}};
            if (!st.error.empty()) j["error"] = st.error;
            return j;
        };
    }
    api::add_health_routes(*routes, info);
    if (gateway) api::add_write_routes(*routes, gateway, tokens);
    std::shared_ptr<api::server> http_holder;
    std::function<std::string()> http_metrics = [&http_holder]() {
        std::string out = "# HELP ledger_http_responses_total HTTP responses by status.\n"
                          "# TYPE ledger_http_responses_total counter\n";
        if (!http_holder) return out;
        const auto& stats = http_holder->stats();
        for (std::size_t code = 100; code < stats.responses_by_status.size(); ++code) {
            if (const auto n = stats.responses_by_status[code].load()) {
                out += fmt::format("ledger_http_responses_total{{status=\"{}\"}} {}\n", code, n);
            }
        }
        out += "# HELP ledger_http_connections_open HTTP connections open now.\n"
               "# TYPE ledger_http_connections_open gauge\n";
        out += fmt::format("ledger_http_connections_open {}\n", stats.connections_open.load());
        out += stats.duration_metrics();
        return out;
    };
    if (store) {
        api::read_options read_opts;
        read_opts.brokers = o.brokers;
        if (reads(r)) {
            api::add_read_routes(*routes, api::read_source{store, runner}, tokens, read_opts, http_metrics);
        } else {
            // project: metrics without the read API
            auto none = std::make_shared<api::token_store>();
            api::add_read_routes(*routes, api::read_source{store, runner}, none, read_opts, http_metrics);
        }
    }

    if (o.serve_http) {
        api::server_options server_opts;
        server_opts.listen = o.listen;
        server_opts.threads = o.http_threads;
        server_opts.body_limit = api::max_event_body;
        server_opts.body_limit_for = api::body_limit_for;
        http_holder = std::make_shared<api::server>(server_opts, routes);
        if (auto started = http_holder->start(); !started) {
            fmt::print(stderr, "{}: --listen: {}\n", cmd, started.error().message);
            return exit_failure;
        }
        const auto endpoint = http_holder->local_endpoint();
        spdlog::info("ledger {}: serving http://{}:{}", name.value().str(), endpoint.address().to_string(),
                     endpoint.port());
    } else {
        spdlog::info("ledger {}: a batch job, no HTTP (--listen serves health and metrics meanwhile)",
                     name.value().str());
    }

    std::jthread finisher;
    std::atomic<bool> finished{false};
    if (runner && o.exit_at_end) {
        // --exit-at-end: when the projector has applied the whole log (or stalled), stop as if signalled.
        finisher = std::jthread([runner, &finished](std::stop_token st) {
            while (!st.stop_requested()) {
                const auto state = runner->status().state;
                if (state == consumers::runner_state::stopped || state == consumers::runner_state::stalled) {
                    finished = true;
                    ::kill(::getpid(), SIGTERM);
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }
    int signal = 0;
    sigwait(&stop_signals, &signal);
    if (finished) {
        spdlog::info("ledger {}: {}, stopping", name.value().str(),
                     runner->status().state == consumers::runner_state::stalled ? "the projector stalled"
                                                                                 : "the whole log is applied");
    } else {
        spdlog::info("ledger {}: {} received, stopping", name.value().str(), signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
    if (finisher.joinable()) {
        finisher.request_stop();
        finisher.join();
    }
    if (http_holder) http_holder->stop();  // answers requests in flight first (up to 5 s)
    gateway.reset();   // then flushes what Kafka has not acknowledged yet
    if (runner) runner->stop();  // the batch in hand commits whole or not at all
    checkpoint_producer.reset();
    spdlog::info("ledger {}: stopped", name.value().str());
    if (runner && runner->status().state == consumers::runner_state::stalled) {
        fmt::print(stderr, "{}: the projector stalled: {}\n", cmd, runner->status().error);
        return exit_failure;
    }
    return exit_ok;
}

void add_serving_command(CLI::App& app, int& exit_code, const char* name, const char* description, role r) {
    auto options = std::make_shared<serving_options>();
    auto* cmd = app.add_subcommand(name, description);
    cmd->footer(
        "Makes sure the topic ledger.<name> exists with one partition and settings that never delete or\n"
        "compact audit data (refusing, with exit code 1, a topic that would), then serves HTTP until\n"
        "SIGINT or SIGTERM. The gateway indexes the event ids already in the log first; the projector\n"
        "applies the log into --data from the offset it stored there (one projector per directory),\n"
        "signing a checkpoint every 1,000 events or 10 s (also published to ledger.<name>.checkpoints).\n"
        "Every flag can also be set as LEDGER_<NAME>, e.g. LEDGER_BROKERS.");
    add_serving_flags(*cmd, *options);
    options->sign_checkpoints = r != role::query;
    if (r != role::gateway) {
        cmd->add_flag("--sign-checkpoints,!--no-sign-checkpoints", options->sign_checkpoints,
                      std::string("Sign the ledger's checkpoints with this data directory's key and publish them "
                                  "(exactly one process per ledger signs) [default: ") +
                          (r == role::query ? "no" : "yes") + "]")
            ->envname("LEDGER_SIGN_CHECKPOINTS");
    }
    if (r == role::project) {
        cmd->add_flag("--exit-at-end", options->exit_at_end,
                      "Stop once the whole log is applied (a batch job), exit 1 if the projector stalled; "
                      "serves HTTP only when --listen is given");
    }
    cmd->callback([options, &exit_code, cmd, r] {
        if (options->exit_at_end && cmd->get_option("--listen")->count() == 0) options->serve_http = false;
        exit_code = serve(*options, r, cmd->get_option("--tokens")->count() > 0);
    });
}

}  // namespace ledger::app
