#include "api/read_handlers.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/auth.h"
#include "api/responses.h"
#include "consumers/verify_kafka.h"
#include "events/time.h"
#include "projections/availability.h"
#include "projections/export.h"
#include "projections/obligations.h"
#include "projections/queries.h"
#include "projections/rules.h"
#include "projections/sla_queries.h"
#include "projections/times.h"

namespace ledger::api {
namespace {

using nlohmann::json;

/// Holds requests that asked for min_offset until the projector has applied it or time is up.
/// One thread checks them, so no I/O thread ever blocks.
class offset_waiter {
public:
    explicit offset_waiter(std::shared_ptr<consumers::projector_runner> runner) : _runner(std::move(runner)) {
        _thread = std::jthread([this](std::stop_token st) { loop(st); });
    }
    ~offset_waiter() {
        _thread.request_stop();
        _cv.notify_all();
    }
    void add(std::int64_t offset, std::chrono::steady_clock::time_point deadline, std::function<void(bool)> done) {
        std::lock_guard lock(_mu);
        _pending.push_back(pending{offset, deadline, std::move(done)});
        _cv.notify_all();
    }

private:
    struct pending {
        std::int64_t offset;
        std::chrono::steady_clock::time_point deadline;
        std::function<void(bool)> done;
    };
    void loop(std::stop_token st) {
        while (!st.stop_requested()) {
            std::vector<std::pair<std::function<void(bool)>, bool>> ready;
            {
                std::unique_lock lock(_mu);
                _cv.wait_for(lock, std::chrono::milliseconds(20));
                const auto now = std::chrono::steady_clock::now();
                const auto applied = _runner ? _runner->status().next_offset : 0;
                std::erase_if(_pending, [&](pending& p) {
                    if (applied > p.offset) {
                        ready.emplace_back(std::move(p.done), true);
                        return true;
                    }
                    if (now >= p.deadline) {
                        ready.emplace_back(std::move(p.done), false);
                        return true;
                    }
                    return false;
                });
            }
            for (auto& [done, ok] : ready) done(ok);
        }
        std::lock_guard lock(_mu);
        for (auto& p : _pending) p.done(false);
        _pending.clear();
    }
    std::shared_ptr<consumers::projector_runner> _runner;
    std::mutex _mu;
    std::condition_variable _cv;
    std::vector<pending> _pending;
    std::jthread _thread;
};

struct context {
    read_source source;
    std::shared_ptr<const token_store> tokens;
    read_options options;
    std::function<std::string()> extra_metrics;
    std::unique_ptr<offset_waiter> waiter;
};

bool authorize_reader(const context& c, const request& req, const responder& respond) {
    const token* tok = authenticate_request(*c.tokens, req, respond);
    if (tok == nullptr) return false;
    if (!tok->can_read()) {
        respond(error_response(req, http::status::forbidden,
                               fmt::format("Token '{}' may not read (it has no read scope).", tok->name)));
        return false;
    }
    return true;
}

response bad_parameter(const request& req, const std::string& name, const std::string& problem) {
    return json_response(req, http::status::bad_request, error_body(problem, name));
}

/// The query parameters an endpoint takes (min_offset is taken by every read).
using params = std::vector<std::string_view>;

/// Refuses, with 400 naming it, a query parameter the endpoint does not take: a misspelt or
/// unsupported filter would otherwise be ignored and the answer look complete.
bool known_params(const request& req, const request_context& ctx, const params& allowed, const responder& respond) {
    for (const auto& [name, value] : ctx.query) {
        if (name == "min_offset" || std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
        std::string list;
        for (const auto a : allowed) list += std::string(list.empty() ? "" : ", ") + std::string(a);
        list += std::string(list.empty() ? "" : ", ") + "min_offset";
        respond(bad_parameter(req, name,
                              fmt::format("Unknown parameter '{}': {} takes {}.", name,
                                          std::string(req.target().substr(0, req.target().find('?'))), list)));
        return false;
    }
    return true;
}

/// An optional parameter that must be one of `names`: true (and `out` set when given), or false
/// after answering 400.
bool name_param(const request& req, const request_context& ctx, const char* name,
                const std::vector<std::string_view>& names, std::string& out, const responder& respond) {
    const auto it = ctx.query.find(name);
    if (it == ctx.query.end() || it->second.empty()) return true;
    if (std::find(names.begin(), names.end(), it->second) == names.end()) {
        std::string list;
        for (const auto n : names) list += std::string(list.empty() ? "" : ", ") + std::string(n);
        respond(bad_parameter(req, name, fmt::format("{} must be one of {}; got '{}'.", name, list, it->second)));
        return false;
    }
    out = it->second;
    return true;
}

/// Refuses a window whose start is after its end (400 naming the start).
bool ordered(const request& req, const char* from_name, const std::optional<std::int64_t>& from, const char* to_name,
             const std::optional<std::int64_t>& to, const responder& respond) {
    if (!from || !to || *from <= *to) return true;
    respond(bad_parameter(req, from_name, fmt::format("{} is after {}: the window is empty.", from_name, to_name)));
    return false;
}

/// A CSV answer (RFC 4180, UTF-8).
response csv_response(const request& req, std::string body) {
    response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/csv; charset=utf-8");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

/// Optional time parameter: true and sets `out` (or leaves it empty); false after answering 400.
bool time_param(const request& req, const request_context& ctx, const char* name, std::optional<std::int64_t>& out,
                const responder& respond) {
    const auto it = ctx.query.find(name);
    if (it == ctx.query.end() || it->second.empty()) return true;
    out = parse_query_time(it->second);
    if (!out) {
        // A '+' in a query string is a space once decoded: "…T14:32:00 01:00".
        const bool plus_as_space = it->second.size() > 6 && it->second[it->second.size() - 6] == ' ';
        respond(bad_parameter(req, name,
                              fmt::format("{} must be an RFC 3339 time with offset, e.g. 2026-03-02T14:32:00+01:00; "
                                          "got '{}'.{}",
                                          name, it->second,
                                          plus_as_space ? " A '+' in a URL reads as a space: write it as %2B." : "")));
        return false;
    }
    return true;
}

/// Wraps a read: authorizes, honours min_offset, then runs `body` (which responds).
handler read_route(std::shared_ptr<context> c, params allowed,
                   std::function<void(request&, const request_context&, const responder&)> body) {
    return [c, allowed = std::move(allowed), body = std::move(body)](request&& req, const request_context& ctx,
                                                                     responder respond) {
        if (!authorize_reader(*c, req, respond)) return;
        if (!known_params(req, ctx, allowed, respond)) return;
        if (c->source.runner) {
            // Read models of another log are not answers about this one.
            if (const auto st = c->source.runner->status(); st.log_mismatch) {
                respond(error_response(req, http::status::service_unavailable, st.error));
                return;
            }
        }
        std::int64_t min_offset = -1;
        if (const auto it = ctx.query.find("min_offset"); it != ctx.query.end()) {
            try {
                std::size_t used = 0;
                min_offset = std::stoll(it->second, &used);
                if (used != it->second.size() || min_offset < 0) throw std::invalid_argument("min_offset");
            } catch (const std::exception&) {
                respond(bad_parameter(req, "min_offset",
                                      fmt::format("min_offset must be an offset (0, 1, ...); got '{}'.", it->second)));
                return;
            }
        }
        const bool applied = min_offset < 0 || (c->source.runner ? c->source.runner->status().next_offset > min_offset
                                                                 : c->source.store->current_head().next_offset > min_offset);
        if (applied) {
            try {
                body(req, ctx, respond);
            } catch (const std::exception& e) {
                spdlog::error("read {} failed: {}", std::string(req.target()), e.what());
                respond(error_response(req, http::status::internal_server_error, "Internal error reading the read models."));
            }
            return;
        }
        if (!c->source.runner) {
            respond(error_response(req, http::status::gateway_timeout,
                                   fmt::format("The read models end before offset {} and nothing projects into them.",
                                               min_offset)));
            return;
        }
        auto shared_req = std::make_shared<request>(std::move(req));
        auto shared_ctx = std::make_shared<request_context>(ctx);
        c->waiter->add(min_offset, std::chrono::steady_clock::now() + c->options.min_offset_wait,
                       [c, body, shared_req, shared_ctx, respond, min_offset](bool ok) {
                           if (!ok) {
                               respond(error_response(
                                   *shared_req, http::status::gateway_timeout,
                                   fmt::format("The read models did not reach offset {} within {} ms; applied through {}.",
                                               min_offset, c->options.min_offset_wait.count(),
                                               c->source.runner->status().next_offset - 1)));
                               return;
                           }
                           try {
                               body(*shared_req, *shared_ctx, respond);
                           } catch (const std::exception& e) {
                               respond(error_response(*shared_req, http::status::internal_server_error,
                                                      "Internal error reading the read models."));
                           }
                       });
    };
}

std::string metrics_text(const context& c) {
    std::string out;
    const auto head = c.source.store->current_head();
    out += "# HELP ledger_applied_offset Highest offset applied to the read models (-1: none).\n"
           "# TYPE ledger_applied_offset gauge\n";
    out += fmt::format("ledger_applied_offset {}\n", head.next_offset - 1);
    out += "# HELP ledger_records_total Records of the log in the read models.\n# TYPE ledger_records_total counter\n";
    out += fmt::format("ledger_records_total {}\n", head.records);
    if (c.source.runner) {
        const auto st = c.source.runner->status();
        out += "# HELP ledger_applied_events_total Records applied by this process.\n"
               "# TYPE ledger_applied_events_total counter\n";
        out += fmt::format("ledger_applied_events_total {}\n", st.applied_records);
        out += "# HELP ledger_projector_lag Records in Kafka not yet applied.\n# TYPE ledger_projector_lag gauge\n";
        out += fmt::format("ledger_projector_lag {}\n", st.lag());
        out += "# HELP ledger_apply_latency_seconds Apply time per record in the last batch.\n"
               "# TYPE ledger_apply_latency_seconds gauge\n";
        out += fmt::format("ledger_apply_latency_seconds {:.9f}\n", st.last_apply_ms / 1000.0);
        out += "# HELP ledger_checkpoints_total Checkpoints signed by this process.\n"
               "# TYPE ledger_checkpoints_total counter\n";
        out += fmt::format("ledger_checkpoints_total {}\n", st.checkpoints);
        out += "# HELP ledger_sla_engine_seconds_total Time the projector spent on SLA obligations.\n"
               "# TYPE ledger_sla_engine_seconds_total counter\n";
        out += fmt::format("ledger_sla_engine_seconds_total {:.6f}\n", st.sla_seconds);
        out += "# HELP ledger_projector_seconds_total Where the projector's time went: the reading thread taking "
               "records from Kafka (reading), hashing and decoding them (decoding), waiting for the writer "
               "(waiting_for_writer); the writer's LMDB transactions (writing).\n"
               "# TYPE ledger_projector_seconds_total counter\n";
        out += fmt::format("ledger_projector_seconds_total{{part=\"reading\"}} {:.6f}\n", st.read_seconds);
        out += fmt::format("ledger_projector_seconds_total{{part=\"decoding\"}} {:.6f}\n", st.prepare_seconds);
        out += fmt::format("ledger_projector_seconds_total{{part=\"waiting_for_writer\"}} {:.6f}\n",
                           st.writer_wait_seconds);
        out += fmt::format("ledger_projector_seconds_total{{part=\"writing\"}} {:.6f}\n", st.write_seconds);
        out += "# HELP ledger_projector_stalled 1 when the projector has halted.\n# TYPE ledger_projector_stalled gauge\n";
        out += fmt::format("ledger_projector_stalled {}\n", st.state == consumers::runner_state::stalled ? 1 : 0);
    }
    if (c.extra_metrics) out += c.extra_metrics();
    return out;
}

}  // namespace

std::optional<std::int64_t> parse_query_time(const std::string& text) {
    const auto p = events::parse_rfc3339(text);
    if (p.problem != events::time_problem::none) return std::nullopt;
    return p.at.time_since_epoch().count();
}

void add_read_routes(router& routes, read_source source, std::shared_ptr<const token_store> tokens,
                     read_options options, std::function<std::string()> extra_metrics) {
    auto c = std::make_shared<context>();
    c->source = std::move(source);
    c->tokens = std::move(tokens);
    c->options = std::move(options);
    c->extra_metrics = std::move(extra_metrics);
    c->waiter = std::make_unique<offset_waiter>(c->source.runner);
    auto& store = *c->source.store;

    routes.add(http::verb::get, "/v1/entities",
               read_route(c, {"kind", "system"}, [&store](request& req, const request_context& ctx,
                                                          const responder& respond) {
                   static const std::vector<std::string_view> kinds{
                       "actor", "change", "route", "agreement", "window", "key", "incident", "maintenance",
                       "service", "report", "request", "access", "calendar"};
                   projections::entity_filter f;
                   if (!name_param(req, ctx, "kind", kinds, f.kind, respond)) return;
                   if (auto it = ctx.query.find("system"); it != ctx.query.end()) f.system = it->second;
                   respond(json_response(req, http::status::ok, projections::entities(store, f)));
               }));
    routes.add(http::verb::get, "/v1/entities/{kind}/{id}",
               read_route(c, {"as_of"}, [&store](request& req, const request_context& ctx, const responder& respond) {
                   std::optional<std::int64_t> as_of;
                   if (!time_param(req, ctx, "as_of", as_of, respond)) return;
                   const auto entity = ctx.path.at("kind") + "/" + ctx.path.at("id");
                   auto status = projections::entity_status(store, entity, as_of);
                   if (!status) {
                       respond(error_response(req, http::status::not_found,
                                              as_of ? fmt::format("{} has no event that occurred by then.", entity)
                                                    : fmt::format("{} is not in the ledger.", entity)));
                       return;
                   }
                   respond(json_response(req, http::status::ok, *status));
               }));
    routes.add(http::verb::get, "/v1/entities/{kind}/{id}/trail",
               read_route(c, {"as_of"}, [&store](request& req, const request_context& ctx, const responder& respond) {
                   std::optional<std::int64_t> as_of;
                   if (!time_param(req, ctx, "as_of", as_of, respond)) return;
                   const auto entity = ctx.path.at("kind") + "/" + ctx.path.at("id");
                   auto trail = projections::entity_trail(store, entity, as_of);
                   if (trail["events"].empty()) {
                       respond(error_response(req, http::status::not_found, fmt::format("{} is not in the ledger.", entity)));
                       return;
                   }
                   respond(json_response(req, http::status::ok, trail));
               }));
    routes.add(http::verb::get, "/v1/actors/{id}/trail",
               read_route(c, {"as_of"}, [&store](request& req, const request_context& ctx, const responder& respond) {
                   std::optional<std::int64_t> as_of;
                   if (!time_param(req, ctx, "as_of", as_of, respond)) return;
                   respond(json_response(req, http::status::ok,
                                         projections::actor_trail(store, ctx.path.at("id"), as_of)));
               }));
    routes.add(http::verb::get, "/v1/systems/{id}/trail",
               read_route(c, {"as_of"}, [&store](request& req, const request_context& ctx, const responder& respond) {
                   std::optional<std::int64_t> as_of;
                   if (!time_param(req, ctx, "as_of", as_of, respond)) return;
                   respond(json_response(req, http::status::ok,
                                         projections::system_trail(store, ctx.path.at("id"), as_of)));
               }));
    routes.add(http::verb::get, "/v1/findings",
               read_route(c, {"system", "finding", "since", "until", "as_of", "format"},
                          [&store](request& req, const request_context& ctx, const responder& respond) {
                   projections::finding_filter f;
                   if (auto it = ctx.query.find("system"); it != ctx.query.end()) f.system = it->second;
                   if (!name_param(req, ctx, "finding", projections::finding_names(), f.finding, respond)) return;
                   if (!time_param(req, ctx, "since", f.since_us, respond)) return;
                   if (!time_param(req, ctx, "until", f.until_us, respond)) return;
                   if (!ordered(req, "since", f.since_us, "until", f.until_us, respond)) return;
                   if (!time_param(req, ctx, "as_of", f.as_of_us, respond)) return;
                   std::string format = "json";
                   if (!name_param(req, ctx, "format", {"json", "csv"}, format, respond)) return;
                   auto body = projections::findings(store, f);
                   if (format == "csv") {
                       std::ostringstream csv;
                       projections::findings_csv(body["findings"], csv);
                       respond(csv_response(req, std::move(csv).str()));
                       return;
                   }
                   respond(json_response(req, http::status::ok, body));
               }));
    for (const bool all : {false, true}) {
        routes.add(http::verb::get, all ? "/v1/obligations" : "/v1/breaches",
                   read_route(c,
                              all ? params{"system", "obligation", "since", "until", "as_of", "state", "format"}
                                  : params{"system", "obligation", "since", "until", "as_of", "format"},
                              [&store, all](request& req, const request_context& ctx, const responder& respond) {
                       projections::obligation_filter f;
                       if (auto it = ctx.query.find("system"); it != ctx.query.end()) f.system = it->second;
                       if (!name_param(req, ctx, "obligation", projections::obligation_names(), f.obligation, respond)) {
                           return;
                       }
                       if (auto it = ctx.query.find("state"); all && it != ctx.query.end() && !it->second.empty()) {
                           f.state = projections::parse_obligation_state(it->second);
                           if (!f.state) {
                               respond(bad_parameter(req, "state",
                                                     "state must be open, met, breached or waived; got '" + it->second + "'."));
                               return;
                           }
                       }
                       if (!time_param(req, ctx, "since", f.since_us, respond)) return;
                       if (!time_param(req, ctx, "until", f.until_us, respond)) return;
                       if (!ordered(req, "since", f.since_us, "until", f.until_us, respond)) return;
                       if (!time_param(req, ctx, "as_of", f.as_of_us, respond)) return;
                       std::string format = "json";
                       if (auto it = ctx.query.find("format"); it != ctx.query.end() && !it->second.empty()) {
                           format = it->second;
                       }
                       if (format != "json" && format != "csv") {
                           respond(bad_parameter(req, "format", "format must be json or csv; got '" + format + "'."));
                           return;
                       }
                       auto text = all ? projections::obligations_text(store, f) : projections::breaches_text(store, f);
                       if (format == "csv") {
                           std::ostringstream csv;
                           projections::breaches_csv(nlohmann::json::parse(text)[all ? "obligations" : "breaches"], csv);
                           respond(csv_response(req, std::move(csv).str()));
                           return;
                       }
                       response res{http::status::ok, req.version()};
                       res.set(http::field::content_type, "application/json");
                       res.keep_alive(req.keep_alive());
                       res.body() = std::move(text);
                       res.prepare_payload();
                       respond(std::move(res));
                   }));
    }
    routes.add(http::verb::get, "/v1/availability",
               read_route(c, {"service", "month", "as_of"}, [&store](request& req, const request_context& ctx, const responder& respond) {
                   const auto service = ctx.query.find("service");
                   if (service == ctx.query.end() || service->second.empty()) {
                       respond(bad_parameter(req, "service", "GET /v1/availability needs service= (a service id)."));
                       return;
                   }
                   const auto month_text = ctx.query.find("month");
                   const auto month = month_text == ctx.query.end() ? std::nullopt : events::parse_month(month_text->second);
                   if (!month) {
                       respond(bad_parameter(req, "month", "month must be YYYY-MM, e.g. 2026-03."));
                       return;
                   }
                   std::optional<std::int64_t> as_of;
                   if (!time_param(req, ctx, "as_of", as_of, respond)) return;
                   auto body = projections::availability(store, service->second, *month, as_of);
                   if (!body) {
                       respond(error_response(req, http::status::not_found,
                                              fmt::format("service/{} was not registered by the end of {}{}.",
                                                          service->second, month_text->second,
                                                          as_of ? " (or by the as_of time)" : "")));
                       return;
                   }
                   respond(json_response(req, http::status::ok, *body));
               }));
    routes.add(http::verb::get, "/v1/timeline",
               read_route(c, {"from", "to", "system", "as_of"},
                          [&store](request& req, const request_context& ctx, const responder& respond) {
                   std::optional<std::int64_t> from, to, as_of;
                   if (!time_param(req, ctx, "from", from, respond)) return;
                   if (!time_param(req, ctx, "to", to, respond)) return;
                   if (!from || !to) {
                       respond(bad_parameter(req, from ? "to" : "from",
                                             "GET /v1/timeline needs from= and to= (RFC 3339 times with offset)."));
                       return;
                   }
                   if (!ordered(req, "from", from, "to", to, respond)) return;
                   if (!time_param(req, ctx, "as_of", as_of, respond)) return;
                   // As of T: only what had occurred by then (domain.md 5).
                   const auto until = as_of ? std::min(*to, *as_of) : *to;
                   const auto it = ctx.query.find("system");
                   auto body = projections::timeline(store, *from, until, it == ctx.query.end() ? std::string() : it->second);
                   body["to"] = projections::iso(*to);
                   respond(json_response(req, http::status::ok, body));
               }));
    routes.add(http::verb::get, "/v1/events/{offset}",
               read_route(c, {}, [&store](request& req, const request_context& ctx, const responder& respond) {
                   std::int64_t offset = -1;
                   try {
                       offset = std::stoll(ctx.path.at("offset"));
                   } catch (const std::exception&) {
                   }
                   auto ev = offset < 0 ? std::nullopt : projections::event_at(store, offset);
                   if (!ev) {
                       respond(error_response(req, http::status::not_found, "No record at that offset."));
                       return;
                   }
                   respond(json_response(req, http::status::ok, *ev));
               }));
    // Verify reads the whole log from Kafka: off the I/O threads, after min_offset like every read.
    routes.add(http::verb::get, "/v1/verify",
               read_route(c, {}, [c](request& req, const request_context&, const responder& respond) {
                   const token* tok = authenticate_request(*c->tokens, req, respond);
                   if (tok == nullptr) return;
                   if (!tok->is_admin()) {
                       respond(error_response(req, http::status::forbidden,
                                              fmt::format("Token '{}' may not verify (scope admin needed).", tok->name)));
                       return;
                   }
                   std::thread([c, req = std::move(req), respond]() mutable {
                       consumers::reader_options ro;
                       ro.brokers = c->options.brokers;
                       consumers::verify_options vo;
                       vo.producers = c->tokens->names();
                       vo.producers_source = "the tokens this node accepts";
                       auto report = consumers::verify_from_kafka(*c->source.store, ro, {}, vo);
                       if (!report) {
                           respond(error_response(req, http::status::service_unavailable,
                                                  "Cannot read the ledger from Kafka to verify it: " +
                                                      report.error().message));
                           return;
                       }
                       respond(json_response(req, http::status::ok, report.value().to_json()));
                   }).detach();
               }));
    routes.add(http::verb::get, "/v1/export",
               read_route(c, {"format"}, [c](request& req, const request_context& ctx, const responder& respond) {
                   const auto it = ctx.query.find("format");
                   auto format = projections::parse_export_format(it == ctx.query.end() ? "json" : it->second);
                   if (!format) {
                       respond(bad_parameter(req, "format", "format must be json or csv; got '" + it->second + "'."));
                       return;
                   }
                   // Streamed from the read models a piece at a time on the connection's thread: an
                   // export of any size takes no thread and no memory of its own.
                   auto stream = std::make_shared<projections::export_stream>(*c->source.store, format.value());
                   streamed_header header{http::status::ok, req.version()};
                   header.set(http::field::content_type, format.value() == projections::export_format::csv
                                                             ? "text/csv; charset=utf-8"
                                                             : "application/json");
                   header.keep_alive(req.keep_alive());
                   respond.stream(std::move(header), [stream](std::string& out) { return stream->next(out); });
               }));
    routes.add(http::verb::get, "/metrics", [c](request&& req, const request_context&, responder respond) {
        response res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.keep_alive(req.keep_alive());
        res.body() = metrics_text(*c);
        res.prepare_payload();
        respond(std::move(res));
    });
}

}  // namespace ledger::api
