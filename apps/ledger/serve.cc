#include "apps/ledger/serve.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/gateway.h"
#include "api/health.h"
#include "api/read_handlers.h"
#include "consumers/log_identity.h"
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
#include "events/time.h"
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

/// What became of the checkpoints this process signs, for health: published, or not yet.
struct checkpoint_publishing {
    bool signs = false;
    mutable std::mutex mu;
    std::int64_t last_published = -1;  // guarded by mu
    std::set<std::int64_t> unpublished;  // guarded by mu: failed and not acknowledged since (-1: no producer)
    std::string error;                   // guarded by mu
    std::uint64_t published_total = 0, failed_total = 0;  // guarded by mu

    void published(std::int64_t offset) {
        std::lock_guard lock(mu);
        last_published = std::max(last_published, offset);
        unpublished.erase(offset);
        ++published_total;
    }
    void failed(std::int64_t offset, std::string why) {
        std::lock_guard lock(mu);
        unpublished.insert(offset);
        error = std::move(why);
        ++failed_total;
    }
    nlohmann::json json() const {
        std::lock_guard lock(mu);
        if (!signs) return {{"state", "signed_elsewhere"}};
        const bool failing = !unpublished.empty();
        nlohmann::json j{{"state", failing ? "failing" : last_published < 0 ? "none_yet" : "ok"},
                         {"last_published_offset", last_published},
                         {"published", published_total},
                         {"failed_attempts", failed_total}};
        if (failing) {
            j["error"] = error;
            j["unpublished"] = unpublished.size();
        }
        return j;
    }
};

/// Appends a signed checkpoint to the checkpoint topic, again after each failure (one attempt per
/// producer timeout while Kafka is down) until it is acknowledged or the producer is gone: a
/// checkpoint signed while the broker was away still reaches the topic.
void publish_checkpoint(const std::weak_ptr<producers::producer>& to, const std::string& topic, std::int64_t offset,
                        std::string record, const std::shared_ptr<checkpoint_publishing>& publishing) {
    const auto producer = to.lock();
    if (!producer) return;  // stopping
    producer->append(topic, std::to_string(offset), record,
                     [to, topic, offset, record, publishing](result<ledger_coordinates> done) {
                         if (done) {
                             publishing->published(offset);
                             return;
                         }
                         spdlog::warn("checkpoint at offset {} not published yet ({}); trying again", offset,
                                      done.error().message);
                         publishing->failed(offset, done.error().message);
                         publish_checkpoint(to, topic, offset, record, publishing);
                     });
}

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

    // The data directory first (locked, its policy checked): a second process on it fails before
    // anything talks to Kafka.
    std::shared_ptr<projections::store> store;
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
        std::error_code ec;
        std::filesystem::create_directories(o.data_dir(), ec);
        if (ec) {
            fmt::print(stderr, "{}: --data {}: {}\n", cmd, o.data_dir(), ec.message());
            return exit_failure;
        }
        auto opened = projections::store::open(o.data_dir(), name.value().topic(), true, false, &policy);
        if (!opened) {
            fmt::print(stderr, "{}: --data: {}\n", cmd, opened.error().message);
            return exit_failure;
        }
        store = std::move(opened).value();
    }

    producers::topic_options topic_opts;
    topic_opts.brokers = o.brokers;
    if (store && store->current_head().next_offset > 0 && [&] {
            const auto d = producers::describe_topic(topic_opts, name.value().topic());
            return !d && d.error().code == make_error_code(producers::errc::admin_failed);
        }()) {
        // Creating it would start another log under the directory's read models.
        fmt::print(stderr,
                   "{}: --data: {} holds {} records of {}, but {} has no such topic: refusing to create it. Point "
                   "--brokers at the log this directory was built from, or start with a new --data.\n",
                   cmd, o.data_dir(), store->current_head().next_offset, name.value().topic(), o.brokers);
        return exit_failure;
    }
    auto topic = producers::ensure_ledger_topic(topic_opts, name.value().topic());
    if (!topic) {
        const auto& e = topic.error();
        fmt::print(stderr, "{}: {}{}\n", cmd, e.message, e.field.empty() ? "" : fmt::format(" (setting: {})", e.field));
        return exit_failure;
    }
    spdlog::info("ledger {}: topic {} on {} ({} partition, replication {}){}", name.value().str(), topic.value().name,
                 o.brokers, topic.value().partitions, topic.value().replication,
                 topic.value().created ? ", created" : "");
    if (store) {
        consumers::reader_options ro;
        ro.brokers = o.brokers;
        if (auto bound = consumers::check_log_identity(*store, ro); !bound) {
            fmt::print(stderr, "{}: --data: {}\n", cmd, bound.error().message);
            return exit_failure;
        }
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

    // The projector: checkpoints signed by one process per ledger and published to Kafka.
    std::shared_ptr<consumers::projector_runner> runner;
    std::shared_ptr<producers::producer> checkpoint_producer;
    auto publishing = std::make_shared<checkpoint_publishing>();
    if (store) {
        const bool sign = o.sign_checkpoints;
        publishing->signs = sign;
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
            publishing->failed(-1, t.error().message);
        } else {
            producers::producer_options popts;
            popts.brokers = o.brokers;
            if (auto p = producers::producer::create(popts)) {
                checkpoint_producer = std::move(p).value();
            } else {
                publishing->failed(-1, p.error().message);
            }
        }
        consumers::runner_options ropts;
        ropts.reader.brokers = o.brokers;
        const auto topic_name = name.value().topic();
        ropts.on_checkpoint = [checkpoint_producer, cp_topic, topic_name,
                               publishing](const projections::checkpoint_row& cp) {
            if (!checkpoint_producer) {
                publishing->failed(cp.offset, "no producer for " + cp_topic);
                return;
            }
            publish_checkpoint(checkpoint_producer, cp_topic, cp.offset, projections::checkpoint_record(topic_name, cp),
                               publishing);
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
        info.checkpoints = [publishing] { return publishing->json(); };
    }
    std::shared_ptr<producers::kafka_probe> probe;
    if (auto p = producers::kafka_probe::start(topic_opts, name.value().topic())) probe = std::move(p).value();
    if (probe) {
        info.kafka = [probe, brokers = o.brokers] {
            const auto st = probe->current();
            nlohmann::json j{{"state", st.up ? "ok" : "unavailable"},
                             {"brokers", brokers},
                             {"since", events::format_utc(std::chrono::time_point_cast<std::chrono::microseconds>(st.since))}};
            if (!st.up) j["error"] = st.error;
            return j;
        };
    }
    api::add_health_routes(*routes, info);
    if (gateway) {
        std::function<std::string()> refuse;
        if (runner) {
            // ledger run: a projector stopped on another log means the topic is not this ledger's.
            refuse = [runner] {
                const auto st = runner->status();
                return st.log_mismatch ? st.error : std::string();
            };
        }
        api::add_write_routes(*routes, gateway, tokens, refuse);
    }
    std::shared_ptr<api::server> http_holder;
    std::function<std::string()> http_metrics = [&http_holder, info, gateway]() {
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
        out += "# HELP ledger_http_connections_refused_total Connections answered 503 and closed: over one "
               "client address's limit, or over the total.\n"
               "# TYPE ledger_http_connections_refused_total counter\n";
        const auto per_client = stats.connections_refused_per_client.load();
        out += fmt::format("ledger_http_connections_refused_total{{reason=\"per_client\"}} {}\n", per_client);
        out += fmt::format("ledger_http_connections_refused_total{{reason=\"total\"}} {}\n",
                           stats.connections_refused.load() - per_client);
        out += stats.duration_metrics();
        out += api::health_metrics(info);
        if (gateway) out += gateway->stats().metrics();
        return out;
    };
    if (!store) {
        // ledger gateway: /metrics of its own (the read routes, which carry it otherwise, are not here).
        routes->add(api::http::verb::get, "/metrics",
                    [http_metrics](api::request&& req, const api::request_context&, api::responder respond) {
                        api::response res{api::http::status::ok, req.version()};
                        res.set(api::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                        res.keep_alive(req.keep_alive());
                        res.body() = http_metrics();
                        res.prepare_payload();
                        respond(std::move(res));
                    });
    }
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
        server_opts.max_connections = o.max_connections;
        server_opts.max_connections_per_client = o.max_connections_per_client;
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
        spdlog::info("ledger {}: {}no HTTP (--listen serves health and metrics)", name.value().str(),
                     o.exit_at_end ? "a batch job, " : "");
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
        cmd->get_option("--listen")->description(
            "HTTP address HOST:PORT for health and metrics; without it (or LEDGER_LISTEN) no HTTP is served");
        cmd->add_flag("--exit-at-end", options->exit_at_end,
                      "Stop once the whole log is applied (a batch job), exit 1 if the projector stalled");
    }
    cmd->callback([options, &exit_code, cmd, r] {
        // ledger project serves HTTP (health, metrics) only when asked: its default address is
        // ledger run's, and a projector beside a running ledger would fail on it.
        if (r == role::project && cmd->get_option("--listen")->count() == 0) options->serve_http = false;
        exit_code = serve(*options, r, cmd->get_option("--tokens")->count() > 0);
    });
}

}  // namespace ledger::app
