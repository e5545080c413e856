// `ledger run` and `ledger gateway` (interface.md).

#include "apps/ledger/commands.h"
#include "apps/ledger/serve.h"

namespace ledger::app {

void add_run_command(CLI::App& app, int& exit_code) {
    add_serving_command(app, exit_code, "run", "Run the ledger: gateway, projector and query API in one process.",
                        role::run);
}

void add_gateway_command(CLI::App& app, int& exit_code) {
    add_serving_command(app, exit_code, "gateway",
                        "Run the ingest gateway alone: POST /v1/events and /v1/events/batch to Kafka.",
                        role::gateway);
}

void add_project_command(CLI::App& app, int& exit_code) {
    add_serving_command(app, exit_code, "project",
                        "Run the projector alone: keep the read models in --data current with the ledger topic "
                        "(HTTP: health and metrics only).",
                        role::project);
}

void add_query_command(CLI::App& app, int& exit_code) {
    add_serving_command(app, exit_code, "query",
                        "Run a query node: project the ledger into its own --data and serve the read API. "
                        "Several query nodes may project the same ledger.",
                        role::query);
}

}  // namespace ledger::app
