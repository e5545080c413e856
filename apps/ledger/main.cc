// The ledger binary: one subcommand per file (commands.h).

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "apps/ledger/commands.h"
#include "apps/ledger/options.h"

int main(int argc, char** argv) {
    // Logs go to stderr; stdout is for answers (tables, --json).
    spdlog::set_default_logger(spdlog::stderr_color_mt("ledger"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

    CLI::App app{
        "Audit Ledger: an event-sourced audit ledger on Apache Kafka.\n"
        "Every approval, sign-off, route change, key rotation and incident is an immutable event;\n"
        "read models in LMDB answer status, findings, SLA breaches and audit trails.",
        "ledger"};
    app.set_version_flag("--version", "ledger 0.1.0");
    app.require_subcommand(1);
    app.footer("Run 'ledger COMMAND --help' for a command's flags. Exit codes: 0 ok, 1 failure, 2 bad usage.");

    int exit_code = ledger::app::exit_ok;
    ledger::app::add_run_command(app, exit_code);
    ledger::app::add_gateway_command(app, exit_code);
    ledger::app::add_project_command(app, exit_code);
    ledger::app::add_query_command(app, exit_code);
    ledger::app::add_read_commands(app, exit_code);
    ledger::app::add_replay_command(app, exit_code);
    ledger::app::add_verify_command(app, exit_code);
    ledger::app::add_key_command(app, exit_code);
    ledger::app::add_emit_command(app, exit_code);
    ledger::app::add_validate_command(app, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return ledger::app::exit_usage;
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return ledger::app::exit_failure;
    }
    return exit_code;
}
