#include "api/health.h"

#include <fmt/format.h>

#include "api/responses.h"

namespace ledger::api {

nlohmann::json health_answer(const node_info& info, http::status& status) {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - info.started);
    nlohmann::json body{{"status", "ok"},
                        {"ledger", info.ledger},
                        {"topic", info.topic},
                        {"role", info.role},
                        {"version", info.version},
                        {"uptime_seconds", uptime.count()}};
    status = http::status::ok;
    if (info.checkpoints) {
        body["checkpoints"] = info.checkpoints();
        if (body["checkpoints"].value("state", "") == "failing") body["status"] = "degraded";
    }
    if (info.kafka) {
        body["kafka"] = info.kafka();
        if (body["kafka"].value("state", "") != "ok") {
            body["status"] = "unavailable";
            status = http::status::service_unavailable;
        }
    }
    if (info.projector) {
        body["projector"] = info.projector();
        if (body["projector"].value("state", "") == "stalled") {
            body["status"] = "stalled";
            status = http::status::service_unavailable;
        }
    }
    return body;
}

std::string health_metrics(const node_info& info) {
    http::status status{};
    const auto body = health_answer(info, status);
    std::string out = "# HELP ledger_health_ok 1 when the part is healthy (as GET /v1/health says), else 0.\n"
                      "# TYPE ledger_health_ok gauge\n";
    out += fmt::format("ledger_health_ok{{part=\"all\"}} {}\n", body["status"] == "ok" ? 1 : 0);
    if (body.contains("kafka")) {
        out += fmt::format("ledger_health_ok{{part=\"kafka\"}} {}\n", body["kafka"]["state"] == "ok" ? 1 : 0);
    }
    if (body.contains("projector")) {
        out += fmt::format("ledger_health_ok{{part=\"projector\"}} {}\n",
                           body["projector"]["state"] == "stalled" ? 0 : 1);
    }
    if (body.contains("checkpoints")) {
        out += fmt::format("ledger_health_ok{{part=\"checkpoints\"}} {}\n",
                           body["checkpoints"]["state"] == "failing" ? 0 : 1);
    }
    return out;
}

void add_health_routes(router& routes, node_info info) {
    routes.add(http::verb::get, "/v1/health", [info](request&& req, const request_context&, responder respond) {
        http::status status{};
        auto body = health_answer(info, status);
        respond(json_response(req, status, body));
    });
}

}  // namespace ledger::api
