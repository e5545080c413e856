#include "apps/ledger/options.h"

#include <spdlog/spdlog.h>

namespace ledger::app {

void add_serving_flags(CLI::App& cmd, serving_options& o) {
    cmd.add_option("--brokers", o.brokers, "Kafka bootstrap servers")->envname("LEDGER_BROKERS")->capture_default_str();
    cmd.add_option("--ledger", o.ledger, "Ledger name; its Kafka topic is ledger.<name>")
        ->envname("LEDGER_LEDGER")
        ->capture_default_str();
    cmd.add_option("--data", o.data, "Directory of the LMDB read models [default: var/ledger/<name>]")
        ->envname("LEDGER_DATA");
    cmd.add_option("--listen", o.listen, "HTTP address HOST:PORT (port 0 picks a free one)")
        ->envname("LEDGER_LISTEN")
        ->capture_default_str();
    cmd.add_option("--tokens", o.tokens, "Token file (TOML: name, sha256, scopes)")
        ->envname("LEDGER_TOKENS")
        ->capture_default_str();
    cmd.add_option("--policy", o.policy, "SLA policy overrides (TOML) [default: built-in]")->envname("LEDGER_POLICY");
    cmd.add_option("--log-level", o.log_level, "trace, debug, info, warn or error")
        ->envname("LEDGER_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    cmd.add_option("--http-threads", o.http_threads, "HTTP worker threads")
        ->envname("LEDGER_HTTP_THREADS")
        ->check(CLI::Range(1u, 64u))
        ->capture_default_str();
    cmd.add_option("--max-connections", o.max_connections,
                   "HTTP connections served at once (the last 32 kept for clients with fewer than 4)")
        ->envname("LEDGER_MAX_CONNECTIONS")
        ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 20))
        ->capture_default_str();
    cmd.add_option("--max-connections-per-client", o.max_connections_per_client,
                   "HTTP connections from one client address at once; more get 503")
        ->envname("LEDGER_MAX_CONNECTIONS_PER_CLIENT")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
    cmd.add_option("--linger-ms", o.linger_ms, "Kafka producer linger.ms: how long a batch waits to fill")
        ->envname("LEDGER_LINGER_MS")
        ->check(CLI::Range(0u, 1000u))
        ->capture_default_str();
}

bool set_log_level(const std::string& name) {
    const auto level = spdlog::level::from_str(name);
    if (level == spdlog::level::off && name != "off") {
        return false;
    }
    spdlog::set_level(level);
    return true;
}

}  // namespace ledger::app
