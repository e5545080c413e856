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

}  // namespace ledger::app
