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
            {"problems", std::move(problems_json)}};
}

verifier::verifier(store& live, std::filesystem::path scratch) : _live(live) {
    _live_head = _live.current_head();
    {
        store::reader r(_live);
        cursor c(r.get(), _live.checkpoints);
        for (bool ok = c.first(); ok; ok = c.next()) {
            auto cp = decode<checkpoint_row>(c.value());
            _checkpoints.emplace(cp.offset, std::move(cp));
        }
    }
    auto s = store::open(scratch, _live.topic(), true, /*bulk: a scratch copy, deleted after*/ true, &_live.policy());
    if (s) {
        _scratch = std::move(s).value();
        projector_options po;
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
    store::reader r(_live);
    cursor c(r.get(), _live.checkpoints);
    for (bool ok = c.seek(be64(static_cast<std::uint64_t>(_next))); ok; ok = c.next()) {
        auto cp = decode<checkpoint_row>(c.value());
        _checkpoints.emplace(cp.offset, std::move(cp));
    }
    return _live_head.next_offset;
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

void verifier::feed(std::int64_t offset, std::string_view bytes) {
    if (offset > _next) {
        problem(_next, fmt::format("offsets {} to {} are missing from Kafka: records were dropped", _next, offset - 1));
        // The chain cannot continue across a hole; the rest is compared as it comes.
    }
    const auto content = events::sha256(bytes);
    _chain = events::chain_hash(_chain, content, offset);
    _next = offset + 1;

    if (offset < _live_head.next_offset) {
        store::reader r(_live);
        const auto key = be64(static_cast<std::uint64_t>(offset));
        const auto v = r.txn().get(_live.log, key);
        if (!v) {
            problem(offset, "the read models have no record at this offset");
        } else {
            const auto row = decode<log_row>(*v);
            if (row.content_hash != events::as_bytes(content) || row.bytes != bytes) {
                problem(offset, fmt::format("the record in Kafka (content hash {}) differs from the one projected ({})",
                                            events::to_hex(content), events::to_hex(row.content_hash)));
            } else if (row.chain_hash != events::as_bytes(_chain)) {
                problem(offset, fmt::format("chain hash {} in the read models; recomputed from Kafka: {}",
                                            events::to_hex(row.chain_hash), events::to_hex(_chain)));
            }
        }
    }
    if (const auto it = _checkpoints.find(offset); it != _checkpoints.end()) {
        const auto& cp = it->second;
        ++_checked;
        const auto message = projector::checkpoint_message(_live.topic(), cp.offset, events::to_hex(cp.chain_hash));
        if (!events::ed25519_verify(cp.public_key, message, cp.signature)) {
            problem(offset, "the checkpoint's signature does not verify");
        } else if (cp.chain_hash != events::as_bytes(_chain)) {
            problem(offset, fmt::format("the signed checkpoint says chain hash {}; recomputed from Kafka: {}",
                                        events::to_hex(cp.chain_hash), events::to_hex(_chain)));
        }
    }
    if (!_rebuild_failed) {
        _pending.push_back(raw_record{offset, std::string(bytes)});
        if (_pending.size() >= 5000) flush_rebuild();
    }
}

verify_report verifier::finish() {
    flush_rebuild();
    if (_next < _live_head.next_offset) {
        problem(_next, fmt::format("offsets {} to {} are in the read models but not in Kafka: records were dropped",
                                   _next, _live_head.next_offset - 1));
    }
    for (const auto& [offset, cp] : _checkpoints) {
        if (offset >= _next) problem(offset, "a signed checkpoint for an offset Kafka does not hold");
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
        for (const auto& [name, member] : dbs) {
            cursor a(live.get(), _live.*member);
            cursor b(rebuilt.get(), (*_scratch).*member);
            bool ha = a.first();
            bool hb = b.first();
            while (ha || hb) {
                if (ha && hb && a.key() == b.key()) {
                    if (a.value() != b.value()) {
                        problem(offset_of(name, a.key(), a.value(), b.value()),
                                fmt::format("read model {} was edited: key '{}' differs from a rebuild", name,
                                            printable(a.key())));
                        break;
                    }
                    ha = a.next();
                    hb = b.next();
                } else if (hb && (!ha || b.key() < a.key())) {
                    problem(offset_of(name, b.key(), {}, b.value()),
                            fmt::format("read model {} lacks key '{}' that a rebuild has", name, printable(b.key())));
                    break;
                } else {
                    problem(offset_of(name, a.key(), a.value(), {}),
                            fmt::format("read model {} has key '{}' that a rebuild does not", name, printable(a.key())));
                    break;
                }
            }
        }
    }
    std::sort(_problems.begin(), _problems.end(),
              [](const verify_problem& x, const verify_problem& y) { return x.offset < y.offset; });
    verify_report out;
    out.verified_through_offset = _next - 1;
    out.chain_hash = events::to_hex(_chain);
    out.checkpoints_checked = _checked;
    out.problems = _problems;
    return out;
}

}  // namespace ledger::projections
