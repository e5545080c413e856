#pragma once
// GET /v1/health: no token needed; tells a load balancer or a person that this node serves.

#include <chrono>
#include <string>

#include "api/router.h"

namespace ledger::api {

struct node_info {
    std::string ledger;    ///< ledger name
    std::string topic;     ///< its Kafka topic
    std::string version;   ///< the binary's version
    std::string role;      ///< "run", "gateway", "project" or "query"
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// Registers GET /v1/health, answering
/// {"status":"ok","ledger","topic","role","version","uptime_seconds"}.
void add_health_routes(router& routes, node_info info);

}  // namespace ledger::api
