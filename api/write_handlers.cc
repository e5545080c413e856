#include "api/write_handlers.h"

#include <atomic>

#include <fmt/format.h>

#include "api/auth.h"
#include "api/responses.h"
#include "events/event.h"

namespace ledger::api {
namespace {

using json = nlohmann::json;

}  // namespace

http::status status_of(append_status s) {
    switch (s) {
        case append_status::created: return http::status::created;
        case append_status::duplicate: return http::status::ok;
        case append_status::conflict: return http::status::conflict;
        case append_status::unavailable: return http::status::service_unavailable;
    }
    return http::status::internal_server_error;
}

namespace {

json body_of(const std::string& id, const append_outcome& o) {
    if (o.status == append_status::created || o.status == append_status::duplicate) {
        return json{{"id", id},
                    {"topic", o.coordinates.topic},
                    {"partition", o.coordinates.partition},
                    {"offset", o.coordinates.offset.value()},
                    {"recorded_at", o.recorded_at}};
    }
    if (o.status == append_status::conflict) {
        auto body = error_body(o.message, "id");
        body["offset"] = o.coordinates.offset.value();
        return body;
    }
    auto body = error_body(o.message);
    if (o.status == append_status::unavailable) {
        // Whether the client should retry with the same id, as the message says.
        body["outcome"] = o.outcome_unknown ? "unknown" : "not_written";
        body["retry_with_same_id"] = true;
    }
    return body;
}

// Who is asking: nullptr after answering 401/403 through `respond`.
const token* authorize_producer(const token_store& tokens, const request& req, const responder& respond) {
    const token* tok = authenticate_request(tokens, req, respond);
    if (tok == nullptr) return nullptr;
    if (!tok->can_produce_any()) {
        respond(error_response(req, http::status::forbidden,
                               fmt::format("Token '{}' may not post events (it has no produce scope).", tok->name)));
        return nullptr;
    }
    return tok;
}

}  // namespace

std::variant<events::event, refusal> check_event_body(std::string_view text, const token& tok) {
    auto parsed = events::parse_json(text);
    if (!parsed) {
        return refusal{http::status::bad_request, error_body(parsed.error().message)};
    }
    const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    auto ev = events::decode_event(std::move(parsed.value()), now);
    if (!ev) {
        return refusal{http::status::unprocessable_entity, error_body(ev.error().message, ev.error().field)};
    }
    if (!tok.can_produce(ev.value().env.system)) {
        return refusal{http::status::forbidden,
                       error_body(fmt::format("Token '{}' may not post events for system {}.", tok.name,
                                              ev.value().env.system),
                                  "system")};
    }
    return std::move(ev).value();
}

namespace {

/// The write endpoints take one parameter, dry_run=true: validate and answer, write nothing.
/// nullopt after answering 400 for anything else.
std::optional<bool> dry_run_param(const request& req, const request_context& ctx, const responder& respond) {
    for (const auto& [name, value] : ctx.query) {
        if (name != "dry_run") {
            respond(json_response(req, http::status::bad_request,
                                  error_body(fmt::format("Unknown parameter '{}': the write endpoints take dry_run.", name),
                                             name)));
            return std::nullopt;
        }
        if (value != "true" && value != "false") {
            respond(json_response(req, http::status::bad_request,
                                  error_body(fmt::format("dry_run must be true or false; got '{}'.", value), "dry_run")));
            return std::nullopt;
        }
    }
    const auto it = ctx.query.find("dry_run");
    return it != ctx.query.end() && it->second == "true";
}

void post_event(const std::shared_ptr<gateway>& gw, const token_store& tokens, request&& req,
                const request_context& ctx, responder respond) {
    const token* tok = authorize_producer(tokens, req, respond);
    if (tok == nullptr) return;
    const auto dry = dry_run_param(req, ctx, respond);
    if (!dry) return;
    auto checked = check_event_body(req.body(), *tok);
    if (auto* r = std::get_if<refusal>(&checked)) {
        respond(json_response(req, r->status, r->body));
        return;
    }
    auto& ev = std::get<events::event>(checked);
    if (*dry) {
        // The answer the event would get, from what the gateway knows now; nothing is written.
        if (const auto known = gw->peek(ev)) {
            auto body = body_of(ev.env.id, *known);
            body["dry_run"] = true;
            respond(json_response(req, status_of(known->status), body));
            return;
        }
        respond(json_response(req, http::status::ok,
                              json{{"dry_run", true}, {"valid", true}, {"id", ev.env.id}, {"would", "create"},
                                   {"type", ev.env.type}, {"entity", ev.env.entity}, {"system", ev.env.system}}));
        return;
    }
    const auto version = req.version();
    const bool keep_alive = req.keep_alive();
    gw->submit(ev, tok->name, [id = ev.env.id, version, keep_alive, respond](append_outcome o) {
        auto res = json_response(status_of(o.status), body_of(id, o), keep_alive);
        res.version(version);
        respond(std::move(res));
    });
}

// The results of one batch, filled from several threads; answered when the last line is done.
struct batch_state {
    std::vector<std::string> results;  // one JSON object per line, as text
    std::atomic<std::size_t> remaining{0};
    responder respond;
    unsigned version = 11;
    bool keep_alive = true;
    bool as_json_array = false;

    void finish_one() {
        if (remaining.fetch_sub(1) != 1) return;
        response res{http::status::ok, version};
        res.keep_alive(keep_alive);
        res.set(http::field::server, "audit-ledger");
        std::string& body = res.body();
        std::size_t size = 32;
        for (const auto& r : results) size += r.size() + 1;
        body.reserve(size);
        if (as_json_array) {
            res.set(http::field::content_type, "application/json");
            body += "{\"results\":[";
            for (std::size_t i = 0; i < results.size(); ++i) {
                if (i > 0) body += ',';
                body += results[i];
            }
            body += "]}\n";
        } else {
            res.set(http::field::content_type, "application/x-ndjson");
            for (const auto& r : results) {
                body += r;
                body += '\n';
            }
        }
        res.prepare_payload();
        respond(std::move(res));
    }
};

void post_batch(const std::shared_ptr<gateway>& gw, const token_store& tokens, request&& req, responder respond) {
    const token* tok = authorize_producer(tokens, req, respond);
    if (tok == nullptr) return;
    auto state = std::make_shared<batch_state>();
    state->respond = std::move(respond);
    state->version = req.version();
    state->keep_alive = req.keep_alive();
    const auto accept = req[http::field::accept];
    state->as_json_array = std::string_view(accept.data(), accept.size()).find("application/json") != std::string_view::npos;

    // Split into lines first, so that the results vector never moves while answers arrive.
    struct line {
        std::size_t number;
        std::string_view text;
    };
    std::vector<line> lines;
    std::string_view body = req.body();
    std::size_t number = 0;
    while (!body.empty()) {
        ++number;
        const auto nl = body.find('\n');
        auto text = body.substr(0, nl);
        body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
        lines.push_back(line{number, text});
    }
    if (lines.empty()) {
        state->respond(error_response(req, http::status::bad_request, "The batch has no events (one JSON event a line)."));
        return;
    }
    state->results.resize(lines.size());
    state->remaining = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto checked = check_event_body(lines[i].text, *tok);
        if (auto* r = std::get_if<refusal>(&checked)) {
            auto result = r->body;
            result["line"] = lines[i].number;
            result["status"] = static_cast<unsigned>(r->status);
            state->results[i] = result.dump(-1, ' ', false, json::error_handler_t::replace);
            state->finish_one();
            continue;
        }
        auto& ev = std::get<events::event>(checked);
        gw->submit(ev, tok->name, [state, i, n = lines[i].number, id = ev.env.id](append_outcome o) {
            const auto status = static_cast<unsigned>(status_of(o.status));
            if (o.status == append_status::created || o.status == append_status::duplicate) {
                // The hot path, written directly: id is a validated UUID, topic a validated name,
                // recorded_at our own format; none needs escaping. Same keys, same order as dump().
                state->results[i] = fmt::format(
                    R"({{"id":"{}","line":{},"offset":{},"partition":{},"recorded_at":"{}","status":{},"topic":"{}"}})",
                    id, n, o.coordinates.offset.value(), o.coordinates.partition, o.recorded_at, status,
                    o.coordinates.topic);
            } else {
                auto result = body_of(id, o);
                result["line"] = n;
                result["status"] = status;
                state->results[i] = result.dump(-1, ' ', false, json::error_handler_t::replace);
            }
            state->finish_one();
        });
    }
}

}  // namespace

std::uint64_t body_limit_for(const http::request_header<>& header) {
    const auto target = header.target();
    return std::string_view(target.data(), target.size()).starts_with("/v1/events/batch") ? max_batch_body
                                                                                          : max_event_body;
}

void add_write_routes(router& routes, std::shared_ptr<gateway> gw, std::shared_ptr<const token_store> tokens,
                      std::function<std::string()> refuse) {
    auto refused = [refuse](const request& req, const responder& respond) {
        if (!refuse) return false;
        const auto why = refuse();
        if (why.empty()) return false;
        respond(error_response(req, http::status::service_unavailable, "Nothing was written: " + why));
        return true;
    };
    routes.add(http::verb::post, "/v1/events",
               [gw, tokens, refused](request&& req, const request_context& ctx, responder respond) {
                   if (refused(req, respond)) return;
                   post_event(gw, *tokens, std::move(req), ctx, std::move(respond));
               });
    routes.add(http::verb::post, "/v1/events/batch",
               [gw, tokens, refused](request&& req, const request_context&, responder respond) {
                   if (refused(req, respond)) return;
                   post_batch(gw, *tokens, std::move(req), std::move(respond));
               });
}

}  // namespace ledger::api
