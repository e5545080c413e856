#pragma once
// What the serving commands share: topic check, tokens, gateway, HTTP, graceful stop.

#include <CLI/CLI.hpp>

#include "apps/ledger/options.h"

namespace ledger::app {

/// run: gateway, projector and reads; gateway: writes only; project: projector only (health and
/// metrics); query: projector and reads.
enum class role { run, gateway, project, query };

/// Serves until SIGINT or SIGTERM. Returns the process exit code.
int serve(const serving_options& options, role r, bool tokens_given);

/// Registers a serving subcommand named `name` for `r`.
void add_serving_command(CLI::App& app, int& exit_code, const char* name, const char* description, role r);

}  // namespace ledger::app
