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
    /// Whether the brokers answer: {"state": "ok" or "unavailable", "error", "since"}.
    std::function<nlohmann::json()> kafka{};
    /// The checkpoints of a projecting node: {"state": "ok", "none_yet", "failing" (not signed or
    /// not published) or "signed_elsewhere", ...}.
    std::function<nlohmann::json()> checkpoints{};
};

/// The health answer and its HTTP status: each part ("kafka", "projector", "checkpoints") with
/// its own state, and "status": "ok" only when every part is; "stalled" (503) when the projector
/// has halted, "unavailable" (503) when Kafka does not answer (writes would fail), "degraded"
/// (200) when checkpoints are failing.
[[nodiscard]] nlohmann::json health_answer(const node_info& info, http::status& status);

/// Prometheus lines of the same: ledger_health_ok{part="..."} 1 or 0.
[[nodiscard]] std::string health_metrics(const node_info& info);

/// Registers GET /v1/health (no token), answering health_answer().
void add_health_routes(router& routes, node_info info);

}  // namespace ledger::api
