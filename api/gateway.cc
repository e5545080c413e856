#include "api/gateway.h"

#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "consumers/partition_reader.h"

namespace ledger::api {

using std::chrono::steady_clock;

namespace {

append_outcome unavailable(std::string message) {
    append_outcome o;
    o.status = append_status::unavailable;
    o.message = std::move(message);
    return o;
}

}  // namespace

gateway::gateway(gateway_options options) : _options(std::move(options)) {}

result<std::unique_ptr<gateway>> gateway::start(const gateway_options& options) {
    producers::producer_options popts;
    popts.brokers = options.brokers;
    popts.message_timeout = options.message_timeout;
    popts.linger = options.linger;
    auto created = producers::producer::create(popts);
    if (!created) return created.error();
    std::unique_ptr<gateway> g(new gateway(options));
    g->_producer = std::move(created).value();
    g->_indexer = std::jthread([raw = g.get()](std::stop_token stop) { raw->index_loop(stop); });

    // Index what is already in the log before serving, so that a retry after a crash between
    // Kafka's acknowledgement and the HTTP answer finds its original.
    const auto started = steady_clock::now();
    std::unique_lock lock(g->_mu);
    auto last_log = started;
    while (!g->_caught_up) {
        if (steady_clock::now() - started > options.catch_up_timeout) {
            return failure(producers::errc::kafka_unavailable,
                           fmt::format("Could not read {} to its end within {} s to index event ids.", options.topic,
                                       std::chrono::duration_cast<std::chrono::seconds>(options.catch_up_timeout).count()),
                           "brokers");
        }
        g->_caught_up_cv.wait_for(lock, std::chrono::milliseconds(500));
        if (steady_clock::now() - last_log > std::chrono::seconds(2)) {
            last_log = steady_clock::now();
            spdlog::info("gateway: indexing event ids of {}: {} ids through offset {}", options.topic,
                         g->_index.size(), g->_indexed_through);
        }
    }
    spdlog::info("gateway: {} event ids indexed through offset {} in {} ms", g->_index.size(), g->_indexed_through,
                 std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started).count());
    lock.unlock();
    return g;
}

gateway::~gateway() {
    _indexer.request_stop();
    if (_indexer.joinable()) _indexer.join();
    if (_producer) {
        const int left = _producer->flush(_options.message_timeout);
        if (left > 0) spdlog::error("gateway: stopping with {} event(s) not acknowledged by Kafka", left);
    }
    thunks out;
    {
        std::lock_guard lock(_mu);
        for (auto& d : _deferred) {
            out.push_back([done = std::move(d.done)] { done(unavailable("The gateway is shutting down.")); });
        }
        _deferred.clear();
    }
    for (auto& t : out) t();
    _producer.reset();  // flushes, then fails whatever is left
}

append_outcome gateway::outcome_for(const std::string& id, const indexed& entry,
                                    const events::sha256_digest& fp) const {
    append_outcome o;
    o.coordinates = ledger_coordinates{_options.topic, 0, ledger_offset{entry.offset}};
    o.recorded_at = entry.recorded_at;
    if (entry.fingerprint == fp) {
        o.status = append_status::duplicate;
    } else {
        o.status = append_status::conflict;
        o.message = fmt::format("Event {} was already recorded at offset {} with other content.", id, entry.offset);
    }
    return o;
}

std::optional<append_outcome> gateway::peek(const events::event& ev) const {
    const auto fp = events::content_fingerprint(ev.posted);
    std::lock_guard lock(_mu);
    if (const auto it = _index.find(ev.env.id); it != _index.end()) return outcome_for(ev.env.id, it->second, fp);
    return std::nullopt;
}

void gateway_stats::delivered(std::chrono::steady_clock::duration took) {
    const double secs = std::chrono::duration<double>(took).count();
    std::size_t i = 0;
    while (i < bounds.size() && secs > bounds[i]) ++i;
    delivery_buckets[i].fetch_add(1, std::memory_order_relaxed);
    delivery_count.fetch_add(1, std::memory_order_relaxed);
    delivery_micros_sum.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
        std::memory_order_relaxed);
}

std::string gateway_stats::metrics() const {
    std::string out = "# HELP ledger_gateway_appends_total Events answered by the gateway, by answer.\n"
                      "# TYPE ledger_gateway_appends_total counter\n";
    out += fmt::format("ledger_gateway_appends_total{{answer=\"created\"}} {}\n", created.load());
    out += fmt::format("ledger_gateway_appends_total{{answer=\"duplicate\"}} {}\n", duplicate.load());
    out += fmt::format("ledger_gateway_appends_total{{answer=\"conflict\"}} {}\n", conflict.load());
    out += fmt::format("ledger_gateway_appends_total{{answer=\"unavailable\"}} {}\n", unavailable.load());
    out += "# HELP ledger_gateway_idempotency_total Requests answered without a new append: from the id "
           "index, by joining an append of the same id in flight, or after waiting for the log.\n"
           "# TYPE ledger_gateway_idempotency_total counter\n";
    out += fmt::format("ledger_gateway_idempotency_total{{how=\"index\"}} {}\n", index_hits.load());
    out += fmt::format("ledger_gateway_idempotency_total{{how=\"in_flight\"}} {}\n", in_flight_joins.load());
    out += fmt::format("ledger_gateway_idempotency_total{{how=\"uncertain_wait\"}} {}\n", uncertain_waits.load());
    out += "# HELP ledger_gateway_delivery_seconds Time from an append to Kafka's delivery report.\n"
           "# TYPE ledger_gateway_delivery_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += delivery_buckets[i].load();
        out += fmt::format("ledger_gateway_delivery_seconds_bucket{{le=\"{}\"}} {}\n", bounds[i], cumulative);
    }
    cumulative += delivery_buckets[bounds.size()].load();
    out += fmt::format("ledger_gateway_delivery_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    out += fmt::format("ledger_gateway_delivery_seconds_sum {:.6f}\n", static_cast<double>(delivery_micros_sum.load()) / 1e6);
    out += fmt::format("ledger_gateway_delivery_seconds_count {}\n", delivery_count.load());
    return out;
}

void gateway::submit(const events::event& ev, const std::string& producer, completion caller_done) {
    // Every answer is counted once, whichever path gives it.
    completion done = [this, caller_done = std::move(caller_done)](append_outcome o) {
        switch (o.status) {
            case append_status::created: _stats.created.fetch_add(1, std::memory_order_relaxed); break;
            case append_status::duplicate: _stats.duplicate.fetch_add(1, std::memory_order_relaxed); break;
            case append_status::conflict: _stats.conflict.fetch_add(1, std::memory_order_relaxed); break;
            case append_status::unavailable: _stats.unavailable.fetch_add(1, std::memory_order_relaxed); break;
        }
        caller_done(std::move(o));
    };
    const auto fp = events::content_fingerprint(ev.posted);
    thunks out;
    std::optional<append_request> req;
    {
        std::lock_guard lock(_mu);
        req = decide(ev.env.id, fp, ev.posted, producer, std::move(done), out);
    }
    for (auto& t : out) t();
    if (req) start_append(std::move(*req));
}

std::optional<gateway::append_request> gateway::decide(const std::string& id, const events::sha256_digest& fp,
                                                       const nlohmann::json& posted, const std::string& producer,
                                                       completion done, thunks& out) {
    if (const auto it = _index.find(id); it != _index.end()) {
        _stats.index_hits.fetch_add(1, std::memory_order_relaxed);
        out.push_back([done = std::move(done), o = outcome_for(id, it->second, fp)] { done(o); });
        return std::nullopt;
    }
    if (const auto it = _in_flight.find(id); it != _in_flight.end()) {
        if (it->second.fingerprint == fp) {
            _stats.in_flight_joins.fetch_add(1, std::memory_order_relaxed);
            it->second.waiters.push_back(std::move(done));  // answered with the same coordinates
        } else {
            append_outcome o;
            o.status = append_status::conflict;
            o.message = fmt::format("Event {} is being recorded with other content.", id);
            out.push_back([done = std::move(done), o] { done(o); });
        }
        return std::nullopt;
    }
    if (!_uncertain.empty() && _uncertain.count(id) > 0) {
        // An earlier attempt timed out: it may be in the log after all. Decide once the index has
        // reached the end of the log twice more (one end-of-log may predate this request).
        _stats.uncertain_waits.fetch_add(1, std::memory_order_relaxed);
        _deferred.push_back(deferred{posted, id, fp, producer, std::move(done), _eof_generation + 2,
                                     steady_clock::now() + _options.uncertain_wait});
        return std::nullopt;
    }
    append_request req;
    req.id = id;
    req.fingerprint = fp;
    req.recorded_at = events::format_utc(std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now()));
    req.bytes = events::record_bytes(posted, producer, req.recorded_at);
    _in_flight.emplace(id, in_flight{fp, {std::move(done)}});
    return req;
}

void gateway::start_append(append_request req) {
    const std::string key = req.id;
    const std::string bytes = req.bytes;
    _producer->append(_options.topic, key, bytes,
              [this, req = std::move(req)](result<ledger_coordinates> r) { on_delivered(req, std::move(r)); });
}

void gateway::on_delivered(const append_request& req, result<ledger_coordinates> r) {
    _stats.delivered(std::chrono::steady_clock::now() - req.started);
    if (r && _options.exit_after_ack) {
        // Fault injection for tests: die between Kafka's acknowledgement and the HTTP answer.
        spdlog::critical("LEDGER_FAULT=exit_after_ack: exiting after Kafka acknowledged {} at offset {}", req.id,
                         r.value().offset.value());
        std::_Exit(86);
    }
    thunks out;
    {
        std::lock_guard lock(_mu);
        auto node = _in_flight.extract(req.id);
        std::vector<completion> waiters = node.empty() ? std::vector<completion>{} : std::move(node.mapped().waiters);
        if (r) {
            const auto offset = r.value().offset.value();
            auto [it, inserted] = _index.try_emplace(req.id, indexed{req.fingerprint, offset, req.recorded_at});
            if (!inserted && it->second.offset > offset) {
                it->second = indexed{req.fingerprint, offset, req.recorded_at};
                inserted = true;
            }
            if (!_uncertain.empty()) _uncertain.erase(req.id);
            if (inserted || it->second.offset == offset) {
                append_outcome first;
                first.status = append_status::created;
                first.coordinates = r.value();
                first.recorded_at = req.recorded_at;
                for (std::size_t i = 0; i < waiters.size(); ++i) {
                    auto o = first;
                    if (i > 0) o.status = append_status::duplicate;
                    out.push_back([done = std::move(waiters[i]), o] { done(o); });
                }
            } else {
                // The index already knew this id at an earlier offset (another gateway, or an
                // attempt that timed out yet landed): that record is the one that counts.
                spdlog::warn("gateway: event {} written again at offset {}; the original is at offset {}", req.id,
                             offset, it->second.offset);
                const auto o = outcome_for(req.id, it->second, req.fingerprint);
                for (auto& w : waiters) out.push_back([done = std::move(w), o] { done(o); });
            }
        } else {
            _uncertain.insert(req.id);
            // The record was handed to Kafka: it may be in the log although no acknowledgement came.
            auto o = unavailable(fmt::format(
                "Kafka did not acknowledge event {}: {} It was not acknowledged, but its outcome is unknown: it may "
                "be in the log. Retry with the same id: the ledger records it at most once and answers with its "
                "coordinates if it is there.",
                req.id, r.error().message));
            o.outcome_unknown = true;
            for (auto& w : waiters) out.push_back([done = std::move(w), o] { done(o); });
        }
    }
    for (auto& t : out) t();
}

void gateway::index_record(std::int64_t offset, const std::string& key, const std::string& payload) {
    {
        std::lock_guard lock(_mu);
        _indexed_through = offset;
        if (const auto it = _index.find(key); it != _index.end() && it->second.offset <= offset) {
            return;  // our own write (or a later copy of an id already known): nothing to learn
        }
    }
    auto rec = events::decode_record(payload);
    if (!rec) {
        spdlog::debug("gateway: offset {} is not a ledger event: {}", offset, rec.error().message);
        return;
    }
    const auto fp = events::content_fingerprint(rec.value().ev.posted);
    std::lock_guard lock(_mu);
    auto& id = rec.value().ev.env.id;
    auto [it, inserted] = _index.try_emplace(id, indexed{fp, offset, rec.value().recorded_at});
    if (!inserted && it->second.offset > offset) {
        it->second = indexed{fp, offset, rec.value().recorded_at};
    }
}

void gateway::release_deferred(bool expired_only, thunks& out) {
    // Called with _mu held. Re-decides requests whose wait is over; fails those past deadline.
    const auto now = steady_clock::now();
    std::vector<deferred> keep;
    std::vector<deferred> ready;
    for (auto& d : _deferred) {
        if (!expired_only && d.ready_at_generation <= _eof_generation) {
            ready.push_back(std::move(d));
        } else if (now >= d.deadline) {
            out.push_back([done = std::move(d.done), id = d.id] {
                done(unavailable(fmt::format("Cannot confirm whether an earlier attempt of event {} was recorded: "
                                             "Kafka is not answering. Retry with the same id.",
                                             id)));
            });
        } else {
            keep.push_back(std::move(d));
        }
    }
    _deferred = std::move(keep);
    for (auto& d : ready) {
        _uncertain.erase(d.id);  // the index is current: decide for real now
        auto req = decide(d.id, d.fingerprint, d.posted, d.producer, std::move(d.done), out);
        if (req) {
            out.push_back([this, r = std::move(*req)]() mutable { start_append(std::move(r)); });
        }
    }
}

void gateway::index_loop(std::stop_token stop) {
    consumers::reader_options ropts;
    ropts.brokers = _options.brokers;
    while (!stop.stop_requested()) {
        std::int64_t from;
        {
            std::lock_guard lock(_mu);
            from = _indexed_through + 1;
        }
        auto opened = consumers::partition_reader::open(ropts, _options.topic, ledger_offset{from});
        if (!opened) {
            spdlog::error("gateway: cannot read {}: {}", _options.topic, opened.error().message);
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        auto& reader = *opened.value();
        while (!stop.stop_requested()) {
            auto polled = reader.poll(std::chrono::milliseconds(100));
            if (!polled) {
                if (polled.error().code == make_error_code(consumers::errc::offset_out_of_range)) {
                    // Records were deleted from the start of the log: their ids cannot be
                    // indexed any more. Index what is left rather than never serving.
                    if (auto w = reader.watermarks(std::chrono::milliseconds(5000))) {
                        std::lock_guard lock(_mu);
                        if (w.value().first.value() > _indexed_through + 1) {
                            spdlog::warn("gateway: {} starts at offset {} (records before it were deleted); "
                                         "the ids of offsets {} to {} are not indexed",
                                         _options.topic, w.value().first.value(), _indexed_through + 1,
                                         w.value().first.value() - 1);
                            _indexed_through = w.value().first.value() - 1;
                            break;
                        }
                    }
                }
                spdlog::error("gateway: reading {}: {}", _options.topic, polled.error().message);
                std::this_thread::sleep_for(std::chrono::seconds(1));
                break;  // reopen from the last indexed offset
            }
            thunks out;
            if (auto* rec = std::get_if<consumers::record>(&polled.value())) {
                index_record(rec->offset.value(), rec->key, rec->payload);
            } else if (std::holds_alternative<consumers::end_of_partition>(polled.value())) {
                std::lock_guard lock(_mu);
                ++_eof_generation;
                if (!_caught_up) {
                    _caught_up = true;
                    _caught_up_cv.notify_all();
                }
                release_deferred(false, out);
            } else {
                // Idle at the end of the log. Kafka reports the end only once per arrival, so a
                // retry waiting for the index to be current asks the broker where the end is now.
                bool waiting;
                {
                    std::lock_guard lock(_mu);
                    waiting = !_deferred.empty();
                }
                std::optional<std::int64_t> end;
                if (waiting) {
                    if (auto hw = reader.high_watermark(std::chrono::milliseconds(1000))) end = hw.value().value();
                }
                std::lock_guard lock(_mu);
                if (end && *end <= _indexed_through + 1) {
                    ++_eof_generation;
                    release_deferred(false, out);
                } else {
                    release_deferred(true, out);
                }
            }
            for (auto& t : out) t();
        }
    }
}

}  // namespace ledger::api
