// `ledger emit FILE|-`: NDJSON events through the gateway (--url) or straight to Kafka.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/gateway.h"
#include "api/responses.h"
#include "api/write_handlers.h"
#include "apps/ledger/commands.h"
#include "producers/ledger_topic.h"
#include "apps/ledger/http_client.h"
#include "apps/ledger/options.h"
#include "events/event.h"
#include "events/ledger_name.h"

namespace ledger::app {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using json = nlohmann::json;

struct emit_options {
    std::string file;
    std::string url;
    std::string token;
    std::string brokers = "127.0.0.1:9092";
    std::string ledger = "main";
    std::string producer = "emit";
    std::size_t batch_size = 500;
    bool json_summary = false;
    bool quiet = false;
};

struct tally {
    std::size_t lines = 0;
    std::size_t accepted = 0;
    std::size_t duplicate = 0;
    std::size_t rejected = 0;
};

// Progress on stderr: rewritten in place on a terminal, a log line now and then otherwise.
class progress {
public:
    explicit progress(bool quiet) : _quiet(quiet), _tty(isatty(STDERR_FILENO) == 1) {}
    void update(const tally& t, bool final = false) {
        if (_quiet) return;
        const auto now = std::chrono::steady_clock::now();
        if (!final && now - _last < std::chrono::seconds(_tty ? 1 : 10)) return;
        _last = now;
        const double secs = std::chrono::duration<double>(now - _start).count();
        const auto text = fmt::format("emit: {} lines, {} accepted, {} duplicate, {} rejected ({:.0f} lines/s)",
                                      t.lines, t.accepted, t.duplicate, t.rejected, secs > 0 ? t.lines / secs : 0.0);
        if (_tty && !final) {
            fmt::print(stderr, "\r{}", text);
        } else {
            fmt::print(stderr, "{}{}\n", _tty ? "\r" : "", text);
        }
    }
    [[nodiscard]] double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - _start).count();
    }

private:
    bool _quiet;
    bool _tty;
    std::chrono::steady_clock::time_point _start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point _last = _start;  // the first progress line after an interval, not at once
};

void count(tally& t, unsigned status) {
    if (status == 201) {
        ++t.accepted;
    } else if (status == 200) {
        ++t.duplicate;
    } else {
        ++t.rejected;
    }
}

void report_rejection(std::size_t line, unsigned status, const json& body) {
    fmt::print(stderr, "line {}: {} {}{}\n", line, status, body.value("error", std::string("rejected")),
               body.contains("field") ? fmt::format(" (field: {})", body["field"].get<std::string>()) : "");
}

struct line {
    std::size_t number;
    std::string text;
};

// Reads the next line that holds an event, skipping blank ones; `number` counts every line.
bool next_event_line(std::istream& in, std::string& text, std::size_t& number) {
    while (std::getline(in, text)) {
        ++number;
        if (text.find_first_not_of(" \t\r") != std::string::npos) return true;
    }
    return false;
}

int emit_http(const emit_options& o, std::istream& in, tally& t, progress& p) {
    std::string host, port;
    if (!split_url(o.url, host, port)) {
        fmt::print(stderr, "ledger emit: --url '{}' is not http://HOST:PORT\n", o.url);
        return exit_usage;
    }
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (!ec) stream.connect(endpoints, ec);
    if (ec) {
        fmt::print(stderr, "ledger emit: cannot connect to {}: {}\n", o.url, ec.message());
        return exit_failure;
    }
    auto send = [&](const std::vector<line>& batch) -> bool {
        http::request<http::string_body> req{http::verb::post, "/v1/events/batch", 11};
        req.set(http::field::host, host);
        req.set(http::field::content_type, "application/x-ndjson");
        req.set(http::field::accept, "application/x-ndjson");
        if (!o.token.empty()) req.set(http::field::authorization, "Bearer " + o.token);
        for (const auto& l : batch) {
            req.body() += l.text;
            req.body() += '\n';
        }
        req.prepare_payload();
        stream.expires_after(std::chrono::seconds(60));
        http::write(stream, req, ec);
        beast::flat_buffer buf;
        http::response_parser<http::string_body> parser;
        parser.body_limit(256 * 1024 * 1024);
        if (!ec) http::read(stream, buf, parser, ec);
        if (ec) {
            fmt::print(stderr, "\nledger emit: {}: {}\n", o.url, ec.message());
            return false;
        }
        auto res = parser.release();
        if (res.result() != http::status::ok) {
            fmt::print(stderr, "\nledger emit: the gateway answered {}: {}", res.result_int(), res.body());
            return false;
        }
        std::string_view body = res.body();
        while (!body.empty()) {
            const auto nl = body.find('\n');
            const auto text = body.substr(0, nl);
            body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
            if (text.empty()) continue;
            const auto result = json::parse(text, nullptr, false);
            if (result.is_discarded() || !result.contains("line") || !result.contains("status")) continue;
            const auto index = result["line"].get<std::size_t>();
            const auto status = result["status"].get<unsigned>();
            ++t.lines;
            count(t, status);
            if (status >= 300 && index >= 1 && index <= batch.size()) {
                report_rejection(batch[index - 1].number, status, result);
            }
        }
        p.update(t);
        return true;
    };

    std::vector<line> batch;
    std::size_t bytes = 0;
    std::string text;
    std::size_t number = 0;
    while (next_event_line(in, text, number)) {
        bytes += text.size() + 1;
        batch.push_back(line{number, std::move(text)});
        if (batch.size() >= o.batch_size || bytes > 8 * 1024 * 1024) {
            if (!send(batch)) return exit_failure;
            batch.clear();
            bytes = 0;
        }
    }
    if (!batch.empty() && !send(batch)) return exit_failure;
    return t.rejected == 0 ? exit_ok : exit_failure;
}

int emit_kafka(const emit_options& o, std::istream& in, tally& t, progress& p) {
    auto name = events::ledger_name::parse(o.ledger);
    if (!name) {
        fmt::print(stderr, "ledger emit: --ledger: {}\n", name.error().message);
        return exit_usage;
    }
    // Like the serving commands: the topic exists, with the ledger's settings, before anything is written.
    producers::topic_options topic_opts;
    topic_opts.brokers = o.brokers;
    if (auto topic = producers::ensure_ledger_topic(topic_opts, name.value().topic()); !topic) {
        fmt::print(stderr, "ledger emit: {}\n", topic.error().message);
        return exit_failure;
    }
    api::gateway_options gopts;
    gopts.brokers = o.brokers;
    gopts.topic = name.value().topic();
    auto started = api::gateway::start(gopts);
    if (!started) {
        fmt::print(stderr, "ledger emit: {}\n", started.error().message);
        return exit_failure;
    }
    auto& gw = *started.value();
    std::mutex mu;
    std::condition_variable cv;
    std::size_t outstanding = 0;
    std::string text;
    std::size_t number = 0;
    while (next_event_line(in, text, number)) {
        auto parsed = events::parse_json(text);
        auto ev = parsed ? events::decode_event(std::move(parsed.value()), std::chrono::time_point_cast<std::chrono::microseconds>(
                                                                     std::chrono::system_clock::now()))
                         : result<events::event>(parsed.error());
        std::unique_lock lock(mu);
        ++t.lines;
        if (!ev) {
            ++t.rejected;
            report_rejection(number, parsed ? 422 : 400, api::error_body(ev.error().message, ev.error().field));
            continue;
        }
        // Bounded: at most 10,000 events waiting for Kafka at once.
        cv.wait(lock, [&] { return outstanding < 10'000; });
        ++outstanding;
        lock.unlock();
        gw.submit(ev.value(), o.producer, [&, number](api::append_outcome out) {
            std::lock_guard l(mu);
            --outstanding;
            const auto status = static_cast<unsigned>(api::status_of(out.status));
            count(t, status);
            if (status >= 300) report_rejection(number, status, api::error_body(out.message));
            cv.notify_all();
        });
        lock.lock();
        p.update(t);
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return outstanding == 0; });
    return t.rejected == 0 ? exit_ok : exit_failure;
}

int emit(const emit_options& o) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (o.file != "-") {
        file.open(o.file);
        if (!file) {
            fmt::print(stderr, "ledger emit: cannot open {}\n", o.file);
            return exit_usage;
        }
        in = &file;
    }
    tally t;
    progress p(o.quiet);
    const int rc = o.url.empty() ? emit_kafka(o, *in, t, p) : emit_http(o, *in, t, p);
    p.update(t, true);
    if (o.json_summary) {
        fmt::print("{}\n", json{{"lines", t.lines},
                                {"accepted", t.accepted},
                                {"duplicate", t.duplicate},
                                {"rejected", t.rejected},
                                {"seconds", p.seconds()}}
                               .dump());
    }
    return rc;
}

}  // namespace

void add_emit_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<emit_options>();
    auto* cmd = app.add_subcommand("emit", "Post NDJSON events (one JSON event a line) to the ledger.");
    cmd->footer(
        "With --url the events go through a running gateway (POST /v1/events/batch) with --token;\n"
        "without it they go straight to Kafka (--brokers, --ledger) as producer --producer, with the\n"
        "same validation and idempotency. Prints progress and a summary of accepted (new), duplicate\n"
        "(already recorded, identical) and rejected lines, each rejection with its line number.\n"
        "Exit code 0 when nothing was rejected, 1 otherwise, 2 on bad usage.");
    cmd->add_option("file", o->file, "NDJSON file, or - for standard input")->required();
    cmd->add_option("--url", o->url, "Gateway URL, e.g. http://127.0.0.1:8080")->envname("LEDGER_URL");
    cmd->add_option("--token", o->token, "Bearer token with a produce scope")->envname("LEDGER_TOKEN");
    cmd->add_option("--brokers", o->brokers, "Kafka bootstrap servers (without --url)")
        ->envname("LEDGER_BROKERS")
        ->capture_default_str();
    cmd->add_option("--ledger", o->ledger, "Ledger name (without --url)")->envname("LEDGER_LEDGER")->capture_default_str();
    cmd->add_option("--producer", o->producer, "Producer name recorded on the events (without --url)")
        ->capture_default_str();
    cmd->add_option("--batch-size", o->batch_size, "Events per HTTP batch")->check(CLI::Range(1, 100000))->capture_default_str();
    cmd->add_flag("--json", o->json_summary, "Print the summary as JSON on standard output");
    cmd->add_flag("-q,--quiet", o->quiet, "No progress or summary on standard error");
    cmd->callback([o, &exit_code] { exit_code = emit(*o); });
}

void add_validate_command(CLI::App& app, int& exit_code) {
    auto file = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "validate", "Check NDJSON events as the gateway would, offline: nothing is sent or written.");
    cmd->footer(
        "Each line gets the gateway's answer for its content: valid, or 400 (malformed JSON) / 422 (an\n"
        "invalid event) naming the field. Whether an id was recorded before is the ledger's to say: ask a\n"
        "running one with POST /v1/events?dry_run=true. Exit code 0 when every line is valid, 1 otherwise.");
    cmd->add_option("file", *file, "NDJSON file, or - for standard input")->required();
    cmd->add_flag("--json", *as_json, "One JSON result per line on standard output (line, status, error, field)");
    cmd->callback([file, as_json, &exit_code] {
        std::ifstream f;
        if (*file != "-") {
            f.open(*file);
            if (!f) {
                fmt::print(stderr, "ledger validate: cannot read {}\n", *file);
                exit_code = exit_usage;
                return;
            }
        }
        std::istream& in = *file == "-" ? std::cin : f;
        std::string text;
        std::size_t number = 0, lines = 0, invalid = 0;
        while (next_event_line(in, text, number)) {
            ++lines;
            auto parsed = events::parse_json(text);
            const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
            auto ev = parsed ? events::decode_event(std::move(parsed.value()), now) : result<events::event>(parsed.error());
            const unsigned status = ev ? 200 : parsed ? 422 : 400;
            if (!ev) ++invalid;
            if (*as_json) {
                json out{{"line", number}, {"status", status}, {"valid", static_cast<bool>(ev)}};
                if (ev) {
                    out["id"] = ev.value().env.id;
                } else {
                    out["error"] = ev.error().message;
                    if (!ev.error().field.empty()) out["field"] = ev.error().field;
                }
                fmt::print("{}\n", out.dump());
            } else if (!ev) {
                report_rejection(number, status, api::error_body(ev.error().message, ev.error().field));
            }
        }
        if (!*as_json) {
            fmt::print(stderr, "{} line{} checked: {} valid, {} invalid\n", lines, lines == 1 ? "" : "s",
                       lines - invalid, invalid);
        }
        exit_code = invalid == 0 ? exit_ok : exit_failure;
    });
}

}  // namespace ledger::app
