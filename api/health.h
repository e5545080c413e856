#pragma once
// GET /v1/health: no token needed; tells a load balancer or a person that this node serves.

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/router.h"

namespace ledger::api {

struct node_info {
    std::string ledger;    ///< ledger name
    std::string topic;     ///< its Kafka topic
    std::string version;   ///< the binary's version
    std::string role;      ///< "run", "gateway", "project" or "query"
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    /// The projector's state, for nodes that project: {"state","applied_offset","end_offset",
    /// "lag","error"}. A "stalled" state makes the answer 503 with status "stalled".
    std::function<nlohmann::json()> projector{};
};

/// Registers GET /v1/health, answering
/// {"status":"ok","ledger","topic","role","version","uptime_seconds"} plus "projector" where one
/// runs; 503 with "status":"stalled" when the projector has halted.
void add_health_routes(router& routes, node_info info);

}  // namespace ledger::api
