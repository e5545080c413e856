#include "projections/verify.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "events/ed25519.h"
#include "projections/model.h"

namespace ledger::projections {
namespace {

constexpr std::size_t max_problems = 1000;



/// The offset a differing key of `db` points at, as well as it can be told.
std::int64_t offset_of(const std::string& db, std::string_view key, std::string_view live_value,
                       std::string_view rebuilt_value) {
    if ((db == "log" || db == "findings" || db == "checkpoints") && key.size() >= 8) {
        return static_cast<std::int64_t>(read_be64(key.substr(0, 8)));
    }
    if (db == "ids") {  // the value is the offset
        return static_cast<std::int64_t>(read_be64(!rebuilt_value.empty() ? rebuilt_value : live_value));
    }
    if (db == "entity_trail") {
        // Offsets of 8 bytes each, in seq order: the first place where the two sides differ.
        auto at = [](std::string_view v, std::size_t i) { return static_cast<std::int64_t>(read_be64(v.substr(i, 8))); };
        for (std::size_t i = 0;; i += 8) {
            const bool l = i + 8 <= live_value.size();
            const bool r = i + 8 <= rebuilt_value.size();
            if (!l && !r) return -1;
            if (l && r && live_value.substr(i, 8) == rebuilt_value.substr(i, 8)) continue;
            if (l && r) return std::min(at(live_value, i), at(rebuilt_value, i));
            return l ? at(live_value, i) : at(rebuilt_value, i);
        }
    }
    if ((db == "actor_trail" || db == "system_trail") && key.size() >= 8) {
        // A block of offsets, ascending bytes: the first that one side has and the other has not.
        const auto [l, r] = std::mismatch(live_value.begin(), live_value.end(), rebuilt_value.begin(),
                                          rebuilt_value.end());
        if (l == live_value.end() && r == rebuilt_value.end()) return trail_block_offset(key, 0);
        if (l == live_value.end()) return trail_block_offset(key, *r);
        if (r == rebuilt_value.end()) return trail_block_offset(key, *l);
        return std::min(trail_block_offset(key, *l), trail_block_offset(key, *r));
    }
    if (db == "time_index" && key.size() >= 8) {
        return static_cast<std::int64_t>(read_be64(key.substr(key.size() - 8)));
    }
    try {
        const auto value = !rebuilt_value.empty() ? rebuilt_value : live_value;
        if (db == "entities") return decode<entity_record>(value).last_offset;
        if (db == "obligations" || db == "deadlines") {  // the latest event that changed it
            const auto o = decode<obligation_row>(value);
            return std::max(o.start_offset, o.met_offset);
        }
        if (db == "reports") return decode<report_fact>(value).offset;
    } catch (const std::exception&) {
        return -1;
    }
    return -1;
}

/// Decodes a value of the read models, or nullopt with why it cannot be (an edited or damaged row
/// is a problem to report, not a reason to stop checking the rest).
template <typename T>
std::optional<T> try_decode(std::string_view bytes, std::string& why) {
    try {
        return decode<T>(bytes);
    } catch (const std::exception& e) {
        why = e.what();
        return std::nullopt;
    }
}

std::string printable(std::string_view key) {
    std::string out;
    for (unsigned char c : key) {
        if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
        else out += fmt::format("\\x{:02x}", c);
    }
    return out;
}

}  // namespace

nlohmann::json verify_report::to_json() const {
    nlohmann::json problems_json = nlohmann::json::array();
    for (const auto& p : problems) problems_json.push_back({{"offset", p.offset}, {"problem", p.problem}});
    return {{"verified_through_offset", verified_through_offset},
            {"chain_hash", chain_hash},
            {"checkpoints_checked", checkpoints_checked},
            {"checkpoints_published", checkpoints_published},
            {"key", key},
            {"key_source", key_source},
            {"warnings", warnings},
            {"producers_checked_against", producers_checked_against.empty() ? nlohmann::json()
                                                                            : nlohmann::json(producers_checked_against)},
            {"problems", std::move(problems_json)}};
}

std::vector<verify_problem> check_published(store& s, const std::vector<checkpoint_row>& published,
                                            const std::string& key, std::size_t& checked) {
    std::vector<verify_problem> out;
    checked = 0;
    const auto h = s.current_head();
    store::reader r(s);
    std::int64_t last_checked = -1;
    for (const auto& cp : published) {
        if (cp.offset >= h.next_offset) continue;
        if (cp.offset != last_checked) ++checked;
        last_checked = cp.offset;
        const auto v = r.txn().get(s.log, be64(static_cast<std::uint64_t>(cp.offset)));
        const auto message = projector::checkpoint_message(s.topic(), cp.offset, events::to_hex(cp.chain_hash));
        std::string why;
        const auto row = v ? try_decode<log_row>(*v, why) : std::nullopt;
        if (cp.public_key != key) {
            out.push_back({cp.offset, fmt::format("the published checkpoint is signed by key {}, not the ledger's key {}",
                                                  events::base64_encode(cp.public_key), events::base64_encode(key))});
        } else if (!events::ed25519_verify(key, message, cp.signature)) {
            out.push_back({cp.offset, "the signature of the published checkpoint does not verify"});
        } else if (!v) {
            out.push_back({cp.offset, "a checkpoint was published for this offset, which the log does not hold"});
        } else if (!row) {
            out.push_back({cp.offset, "read model log: the row at this offset cannot be decoded: " + why});
        } else if (row->chain_hash != cp.chain_hash) {
            out.push_back({cp.offset, fmt::format("the published checkpoint says chain hash {}; the log gives {}: the "
                                                  "log was rewritten at or before this offset",
                                                  events::to_hex(cp.chain_hash), events::to_hex(row->chain_hash))});
        }
    }
    return out;
}

verifier::verifier(store& live, std::filesystem::path scratch) : _live(live) {
    _live_head = _live.current_head();
    read_checkpoint_rows(0);
    auto s = store::open(scratch, _live.topic(), true, /*bulk: a scratch copy, deleted after*/ true, &_live.policy());
    if (s) {
        _scratch = std::move(s).value();
        projector_options po;
        po.sign = false;
        po.checkpoint_every = 0;
        po.checkpoint_interval = std::chrono::hours(24 * 365);
        _rebuild = std::make_unique<projector>(*_scratch, po);
    } else {
        _rebuild_failed = true;
        problem(-1, "cannot rebuild the views for comparison: " + s.error().message);
    }
}

verifier::~verifier() = default;

std::int64_t verifier::refresh_head() {
    _live_head = _live.current_head();
    read_checkpoint_rows(_next);
    return _live_head.next_offset;
}

void verifier::read_checkpoint_rows(std::int64_t from) {
    try {
        store::reader r(_live);
        cursor c(r.get(), _live.checkpoints);
        for (bool ok = c.seek(be64(static_cast<std::uint64_t>(from))); ok; ok = c.next()) {
            std::string why;
            if (auto cp = try_decode<checkpoint_row>(c.value(), why)) {
                _checkpoints.emplace(cp->offset, std::move(*cp));
            } else if (c.key().size() == 8 && _undecodable_checkpoints.insert(std::string(c.key())).second) {
                problem(static_cast<std::int64_t>(read_be64(c.key())),
                        "read model checkpoints: the row at this offset cannot be decoded: " + why);
            }
        }
    } catch (const std::exception& e) {
        problem(-1, std::string("read model checkpoints cannot be read: ") + e.what());
    }
}

void verifier::use_published(std::vector<checkpoint_row> published) {
    _published = std::move(published);
    _published_at.clear();
    for (std::size_t i = 0; i < _published.size(); ++i) _published_at.emplace(_published[i].offset, i);
}

void verifier::pin_key(std::string public_key, std::string source) {
    _key = std::move(public_key);
    _key_source = std::move(source);
}

void verifier::resolve_key() {
    if (!_key.empty()) return;
    if (!_published.empty()) {
        _key = _published.front().public_key;
        _key_source = "the first checkpoint published on the checkpoint topic (trusted on first use)";
    } else if (!_checkpoints.empty()) {
        _key = _checkpoints.begin()->second.public_key;
        _key_source = "the first checkpoint in the read models (trusted on first use; none is published)";
    } else {
        return;
    }
    _warnings.push_back(fmt::format("no key was pinned: checkpoints were checked against {} key {}; pass --key "
                                    "FILE (what `ledger key` prints on the signing node) to pin it",
                                    _key_source.substr(0, _key_source.find(" (")), events::base64_encode(_key)));
}

void verifier::check_checkpoint(std::int64_t offset, const checkpoint_row& cp, const char* where) {
    const auto message = projector::checkpoint_message(_live.topic(), cp.offset, events::to_hex(cp.chain_hash));
    if (cp.public_key != _key) {
        problem(offset, fmt::format("the checkpoint {} is signed by key {}, not the ledger's key {}", where,
                                    events::base64_encode(cp.public_key), events::base64_encode(_key)));
    } else if (!events::ed25519_verify(_key, message, cp.signature)) {
        problem(offset, fmt::format("the signature of the checkpoint {} does not verify", where));
    } else if (cp.chain_hash != events::as_bytes(_chain)) {
        problem(offset, fmt::format("the signed checkpoint {} says chain hash {}; recomputed from Kafka: {}", where,
                                    events::to_hex(cp.chain_hash), events::to_hex(_chain)));
    }
}

void verifier::problem(std::int64_t offset, std::string text) {
    if (_problems.size() < max_problems) _problems.push_back(verify_problem{offset, std::move(text)});
}

void verifier::flush_rebuild() {
    if (_pending.empty() || _rebuild_failed) return;
    auto r = _rebuild->apply(_pending);
    if (!r) {
        _rebuild_failed = true;
        problem(_pending.front().offset, "the rebuild for comparison failed: " + r.error().message);
    }
    _pending.clear();
}

void verifier::check_producers(std::set<std::string> names, std::string source) {
    _producers = std::move(names);
    _producers_source = std::move(source);
}

void verifier::feed(std::int64_t offset, std::string_view bytes, std::int64_t timestamp_ms) {
    if (_producers) {
        // Records that do not decode are problems of the rebuild's findings; only a named producer counts.
        const auto doc = nlohmann::json::parse(bytes, nullptr, false);
        if (doc.is_object()) {
            const auto it = doc.find("producer");
            const std::string producer = it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
            if (!producer.empty() && !_producers->contains(producer)) {
                auto& seen = _unknown_producers[producer];
                if (seen.first < 0) seen.first = offset;
                seen.last = offset;
                ++seen.records;
            }
        }
    }
    if (offset > _next) {
        problem(_next, fmt::format("offsets {} to {} are missing from Kafka: records were dropped", _next, offset - 1));
        // The chain cannot continue across a hole; the rest is compared as it comes.
    }
    const auto content = events::sha256(bytes);
    _chain = events::chain_hash(_chain, content, offset);
    _next = offset + 1;

    if (offset < _live_head.next_offset) try {
        store::reader r(_live);
        const auto key = be64(static_cast<std::uint64_t>(offset));
        const auto v = r.txn().get(_live.log, key);
        if (!v) {
            problem(offset, "the read models have no record at this offset");
        } else {
            std::string why;
            const auto row = try_decode<log_row>(*v, why);
            if (!row) {
                problem(offset, "read model log: the row at this offset cannot be decoded: " + why);
            } else if (row->content_hash != events::as_bytes(content) || row->bytes != bytes) {
                problem(offset, fmt::format("the record in Kafka (content hash {}) differs from the one projected ({})",
                                            events::to_hex(content), events::to_hex(row->content_hash)));
            } else if (row->chain_hash != events::as_bytes(_chain)) {
                problem(offset, fmt::format("chain hash {} in the read models; recomputed from Kafka: {}",
                                            events::to_hex(row->chain_hash), events::to_hex(_chain)));
            }
        }
    } catch (const std::exception& e) {
        problem(offset, std::string("read model log cannot be read at this offset: ") + e.what());
    }
    const auto row = _checkpoints.find(offset);
    const auto [first, last] = _published_at.equal_range(offset);
    if (row != _checkpoints.end() || first != last) {
        resolve_key();
        ++_checked;
        if (row != _checkpoints.end()) check_checkpoint(offset, row->second, "in the read models");
        for (auto it = first; it != last; ++it) check_checkpoint(offset, _published[it->second], "published");
    }
    if (!_rebuild_failed) {
        _pending.push_back(raw_record{offset, std::string(bytes), timestamp_ms});
        if (_pending.size() >= 5000) flush_rebuild();
    }
}

verify_report verifier::finish(std::optional<std::int64_t> log_end) {
    flush_rebuild();
    if (_next < _live_head.next_offset) {
        problem(_next, fmt::format("offsets {} to {} are in the read models but not in Kafka: records were dropped",
                                   _next, _live_head.next_offset - 1));
    }
    for (const auto& [offset, cp] : _checkpoints) {
        if (offset >= _next) problem(offset, "a signed checkpoint for an offset Kafka does not hold");
    }
    const std::int64_t end = log_end.value_or(_next);
    for (const auto& [offset, index] : _published_at) {
        if (offset >= end) {
            problem(offset, fmt::format("a checkpoint was published for offset {}, which Kafka's log does not hold "
                                        "(it ends at {}): records were dropped or the topic was recreated",
                                        offset, end - 1));
            break;
        }
    }
    // The directory that signs keeps every checkpoint it published: a row deleted is caught.
    if (_live.signs() && !_live.public_key().empty() && _live.public_key() == _key) {
        for (const auto& [offset, index] : _published_at) {
            if (offset >= _live_head.next_offset || offset >= _next) break;
            if (_published[index].public_key == _key && !_checkpoints.contains(offset)) {
                problem(offset, "the read models lack the checkpoint published for this offset: a row was deleted");
            }
        }
    }
    for (const auto& [producer, seen] : _unknown_producers) {
        problem(seen.first,
                fmt::format("producer '{}' names no token of {}: {} record{} (offsets {} to {}) were not written through "
                            "the gateway for a token: written around it, or by a token since removed",
                            producer, _producers_source, seen.records, seen.records == 1 ? "" : "s", seen.first, seen.last));
    }
    if (_checked == 0 && _next > 0) {
        _warnings.push_back(_published.empty() && _checkpoints.empty()
                                ? "no checkpoint was checked: none is signed yet (one comes every 1,000 events or 10 s)"
                                : "no checkpoint was checked: none of those signed is for an offset verified here");
    }
    if (_next == _live_head.next_offset && _live_head.chain != _chain) {
        problem(_next - 1, fmt::format("the read models' chain head {} differs from the chain recomputed from Kafka {}",
                                       events::to_hex(_live_head.chain), events::to_hex(_chain)));
    }
    // The views: everything the rebuild wrote must be in the live read models, and nothing else,
    // up to the offset both have applied.
    if (!_rebuild_failed && _scratch && _next == _live_head.next_offset) {
        store::reader live(_live);
        store::reader rebuilt(*_scratch);
        const std::pair<const char*, dbi store::*> dbs[] = {
            {"log", &store::log},           {"ids", &store::ids},
            {"entities", &store::entities}, {"entity_trail", &store::entity_trail},
            {"actor_trail", &store::actor_trail}, {"system_trail", &store::system_trail},
            {"time_index", &store::time_index}, {"findings", &store::findings},
            {"grants", &store::grants},     {"obligations", &store::obligations},
            {"deadlines", &store::deadlines}, {"sla_links", &store::sla_links},
            {"reports", &store::reports},
        };
        // The first difference of one database, as a problem naming its offset.
        auto compare = [&](const char* name, dbi mine, dbi theirs) {
            cursor a(live.get(), mine);
            cursor b(rebuilt.get(), theirs);
            bool ha = a.first();
            bool hb = b.first();
            while (ha || hb) {
                if (ha && hb && a.key() == b.key()) {
                    if (a.value() != b.value()) {
                        problem(offset_of(name, a.key(), a.value(), b.value()),
                                fmt::format("read model {} was edited: key '{}' differs from a rebuild", name,
                                            printable(a.key())));
                        return;
                    }
                    ha = a.next();
                    hb = b.next();
                } else if (hb && (!ha || b.key() < a.key())) {
                    problem(offset_of(name, b.key(), {}, b.value()),
                            fmt::format("read model {} lacks key '{}' that a rebuild has", name, printable(b.key())));
                    return;
                } else {
                    problem(offset_of(name, a.key(), a.value(), {}),
                            fmt::format("read model {} has key '{}' that a rebuild does not", name, printable(a.key())));
                    return;
                }
            }
        };
        for (const auto& [name, member] : dbs) {
            try {
                compare(name, _live.*member, (*_scratch).*member);
            } catch (const std::exception& e) {
                // A damaged database is named; the others are still compared.
                problem(-1, fmt::format("read model {} cannot be read to compare it with a rebuild: {}", name, e.what()));
            }
        }
    }
    std::sort(_problems.begin(), _problems.end(),
              [](const verify_problem& x, const verify_problem& y) { return x.offset < y.offset; });
    verify_report out;
    out.verified_through_offset = _next - 1;
    out.chain_hash = events::to_hex(_chain);
    out.checkpoints_checked = _checked;
    out.checkpoints_published = _published.size();
    out.key = _key.empty() ? std::string() : events::base64_encode(_key);
    out.key_source = _key_source;
    out.warnings = _warnings;
    if (_producers) out.producers_checked_against = _producers_source;
    out.problems = _problems;
    return out;
}

}  // namespace ledger::projections
