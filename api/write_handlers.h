#pragma once
// POST /v1/events and POST /v1/events/batch (interface.md).

#include <functional>
#include <memory>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/gateway.h"
#include "api/router.h"
#include "api/tokens.h"

namespace ledger::api {

/// Largest single event body (413 beyond). 64 KiB.
inline constexpr std::uint64_t max_event_body = 64 * 1024;
/// Largest batch body (413 beyond). 16 MiB.
inline constexpr std::uint64_t max_batch_body = 16 * 1024 * 1024;

/// The body limit for a request, by its target: batches may be larger.
[[nodiscard]] std::uint64_t body_limit_for(const http::request_header<>& header);

/// The HTTP status of an append outcome: 201 created, 200 duplicate, 409 conflict, 503 unavailable.
[[nodiscard]] http::status status_of(append_status s);

/// Why an event body was refused: the HTTP status (400, 422, 403) and the JSON body.
struct refusal {
    http::status status;
    nlohmann::json body;
};

/// One event body's way through parsing, validation (against the ledger's clock now) and the
/// token's scopes: the event, or the refusal to answer.
[[nodiscard]] std::variant<events::event, refusal> check_event_body(std::string_view text, const token& tok);

/// Registers the write endpoints. Answers: 201 created, 200 identical duplicate, 400 malformed
/// JSON, 401 no or bad token, 403 system outside the token's scopes, 409 same id other content,
/// 422 invalid event ({"error","field"}), 503 Kafka unavailable (nothing acknowledged).
/// `refuse`, when given, is asked first: a reason not to write (503 with it, nothing written).
void add_write_routes(router& routes, std::shared_ptr<gateway> gw, std::shared_ptr<const token_store> tokens,
                      std::function<std::string()> refuse = {});

}  // namespace ledger::api
