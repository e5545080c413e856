#pragma once
// Flags shared by the serving commands (interface.md), each also read from LEDGER_<NAME>.

#include <string>

#include <CLI/CLI.hpp>

namespace ledger::app {

/// Exit codes of every command: 0 success, 1 a failure or a finding the command reports,
/// 2 bad usage.
enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

struct serving_options {
    /// Kafka bootstrap servers. Default: 127.0.0.1:9092.
    std::string brokers = "127.0.0.1:9092";
    /// Ledger name; its topic is ledger.<name>. Default: main.
    std::string ledger = "main";
    /// Directory of the LMDB read models. Default: var/ledger/<name>.
    std::string data;
    /// HTTP address. Default: 127.0.0.1:8080.
    std::string listen = "127.0.0.1:8080";
    /// Token file. Default: var/tokens.toml.
    std::string tokens = "var/tokens.toml";
    /// SLA policy overrides (TOML). Default: none, the built-in defaults of domain.md.
    std::string policy;
    /// Log level: trace, debug, info, warn, error. Default: info.
    std::string log_level = "info";
    /// HTTP worker threads. Default: 2.
    unsigned http_threads = 2;
    /// HTTP connections at once, and from one client address. Default: 1024 and 128.
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_client = 128;
    /// How long the Kafka producer waits to fill a batch (linger.ms). Default: 1.
    unsigned linger_ms = 1;
    /// ledger project: stop once the end of the log is applied. Default: false.
    bool exit_at_end = false;
    /// Serve HTTP (health, metrics, reads). False for `ledger project --exit-at-end` without an
    /// explicit --listen: a batch job does not take the port of the ledger already serving there.
    bool serve_http = true;
    /// Sign the ledger's checkpoints with this data directory's key and publish them. Exactly one
    /// process per ledger signs: by default `ledger run` and `ledger project`, not `ledger query`.
    bool sign_checkpoints = true;

    /// The data directory with its default filled in.
    [[nodiscard]] std::string data_dir() const { return data.empty() ? "var/ledger/" + ledger : data; }
};

/// Adds --brokers, --ledger, --data, --listen, --tokens, --policy, --log-level to `cmd`.
void add_serving_flags(CLI::App& cmd, serving_options& options);

/// Sets spdlog's level from a name; returns false for an unknown one.
[[nodiscard]] bool set_log_level(const std::string& name);

}  // namespace ledger::app
