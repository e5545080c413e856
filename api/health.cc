#include "api/health.h"

#include "api/responses.h"

namespace ledger::api {

void add_health_routes(router& routes, node_info info) {
    routes.add(http::verb::get, "/v1/health", [info](request&& req, const request_context&, responder respond) {
        const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                             info.started);
        nlohmann::json body{{"status", "ok"},
                            {"ledger", info.ledger},
                            {"topic", info.topic},
                            {"role", info.role},
                            {"version", info.version},
                            {"uptime_seconds", uptime.count()}};
        auto status = http::status::ok;
        if (info.projector) {
            body["projector"] = info.projector();
            if (body["projector"].value("state", "") == "stalled") {
                body["status"] = "stalled";
                status = http::status::service_unavailable;
            }
        }
        respond(json_response(req, status, body));
    });
}

}  // namespace ledger::api
