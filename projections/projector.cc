#include "projections/projector.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "events/event.h"
#include "events/hash.h"
#include "events/time.h"
#include "projections/obligations.h"
#include "projections/rules.h"
#include "projections/times.h"

namespace ledger::projections {
namespace {

/// What a batch reads and changes of the entities and grants, decoded once and written once
/// at the end of the batch. Lookups see the batch's own changes, in ledger order.
class batch_cache final : public lookup, public sla_state {
public:
    batch_cache(store& s, write_txn& txn) : _s(s), _txn(txn) {}

    // ---- sla_state ----
    const obligation_row* find_obligation(const std::string& key) override {
        auto& slot = load_obligation(key);
        return slot.row ? &*slot.row : nullptr;
    }
    obligation_row* obligation(const std::string& key) override {
        auto& slot = load_obligation(key);
        if (!slot.row) return nullptr;
        slot.dirty = true;
        return &*slot.row;
    }
    obligation_row& put_obligation(const std::string& key, obligation_row row) override {
        auto& slot = load_obligation(key);
        slot.row = std::move(row);
        slot.dirty = true;
        return *slot.row;
    }
    std::optional<std::string> link(const std::string& key) override {
        auto [it, inserted] = _links.try_emplace(key);
        if (inserted) {
            if (auto v = _txn.get(_s.sla_links, key)) it->second.value = std::string(*v);
        }
        return it->second.value;
    }
    void set_link(const std::string& key, const std::string& value) override {
        auto& slot = _links[key];
        slot.value = value;
        slot.dirty = true;
    }
    void first_report(const std::string& kind, const std::string& period, const report_fact& fact) override {
        const std::string key = kind + '\0' + period;
        if (_reports.contains(key) || _txn.get(_s.reports, key)) return;
        _reports.emplace(key, fact);
    }

    /// The entity's record (empty for a new one), to change: it is written at flush().
    entity_record& entity_for_update(const std::string& key) {
        auto& slot = load_entity(key);
        if (!slot.record) slot.record.emplace();
        slot.dirty = true;
        return *slot.record;
    }
    const entity_record* entity(const std::string& key) override {
        const auto& slot = load_entity(key);  // a node of an unordered_map: it stays where it is
        return slot.record ? &*slot.record : nullptr;
    }

    grants& grants_for_update(const std::string& actor) {
        auto& slot = load_grants(actor);
        slot.dirty = true;
        return slot.value;
    }
    const std::vector<grant>& grants_of(const std::string& actor) override { return load_grants(actor).value.items; }

    void flush() {
        // In key order: the cursor moves forward from page to page instead of searching from the root.
        std::vector<std::pair<const std::string*, const entity_slot*>> dirty;
        dirty.reserve(_entities.size());
        for (const auto& [key, slot] : _entities) {
            if (slot.dirty) dirty.emplace_back(&key, &slot);
        }
        std::sort(dirty.begin(), dirty.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
        for (const auto& [key, slot] : dirty) _txn.put(_s.entities, *key, encode(*slot->record));
        for (const auto& [actor, slot] : _grants) {
            if (slot.dirty) _txn.put(_s.grants, actor, encode(slot.value));
        }
        for (const auto& [key, slot] : _obligations) {
            if (!slot.dirty || !slot.row) continue;
            const auto value = encode(*slot.row);
            _txn.put(_s.obligations, key, value);
            // The deadline index holds a copy of what can be breached, by its earliest due.
            const std::string index = slot.row->can_breach() ? time_key(slot.row->min_due()) + key : std::string();
            if (!slot.indexed.empty() && slot.indexed != index) _txn.del(_s.deadlines, slot.indexed);
            if (!index.empty()) _txn.put(_s.deadlines, index, value);
        }
        for (const auto& [key, slot] : _links) {
            if (slot.dirty && slot.value) _txn.put(_s.sla_links, key, *slot.value);
        }
        for (const auto& [key, fact] : _reports) _txn.put(_s.reports, key, encode(fact));
    }

private:
    struct entity_slot {
        std::optional<entity_record> record;
        bool dirty = false;
    };
    struct grants_slot {
        grants value;
        bool dirty = false;
    };
    entity_slot& load_entity(const std::string& key) {
        auto [it, inserted] = _entities.try_emplace(key);
        if (inserted) {
            if (auto v = _txn.get(_s.entities, key)) it->second.record = decode<entity_record>(*v);
        }
        return it->second;
    }
    struct obligation_slot {
        std::optional<obligation_row> row;
        std::string indexed;  ///< its key in the deadline index as stored (empty: not there)
        bool dirty = false;
    };
    struct link_slot {
        std::optional<std::string> value;
        bool dirty = false;
    };
    obligation_slot& load_obligation(const std::string& key) {
        auto [it, inserted] = _obligations.try_emplace(key);
        if (inserted) {
            if (auto v = _txn.get(_s.obligations, key)) {
                it->second.row = decode<obligation_row>(*v);
                if (it->second.row->can_breach()) it->second.indexed = time_key(it->second.row->min_due()) + key;
            }
        }
        return it->second;
    }
    grants_slot& load_grants(const std::string& actor) {
        auto [it, inserted] = _grants.try_emplace(actor);
        if (inserted) {
            if (auto v = _txn.get(_s.grants, actor)) it->second.value = decode<grants>(*v);
        }
        return it->second;
    }

    store& _s;
    write_txn& _txn;
    std::unordered_map<std::string, entity_slot> _entities;
    std::unordered_map<std::string, grants_slot> _grants;
    std::map<std::string, obligation_slot> _obligations;
    std::map<std::string, link_slot> _links;
    std::map<std::string, report_fact> _reports;
};

/// What a batch adds to the blocks of one trail (model.h), by key: each block it touches is
/// read, extended and put once, in key order, at the end of the batch.
class block_additions {
public:
    /// Adds `bytes` to the block `name \0 block(8)`. Consecutive events often share an entity,
    /// actor or system: the block added to last is extended without a lookup.
    void add(std::string_view name, std::uint64_t block, std::string_view bytes) {
        if (_last == nullptr || block != _last_block || name != _last_name) {
            _key.clear();
            append_prefixed(_key, name, block);
            const auto it = _blocks.try_emplace(_key).first;
            _last = &it->second;
            _last_name = std::string_view(it->first).substr(0, name.size());  // the map's node stays put
            _last_block = block;
        }
        _last->append(bytes);
    }
    void write(write_txn& txn, dbi db) const {
        // In key order: the cursor moves forward from page to page instead of searching from the root.
        std::vector<const std::pair<const std::string, std::string>*> sorted;
        sorted.reserve(_blocks.size());
        for (const auto& block : _blocks) sorted.push_back(&block);
        std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
        std::string scratch;
        for (const auto* block : sorted) txn.extend(db, block->first, block->second, scratch);
    }

private:
    std::unordered_map<std::string, std::string> _blocks;  // nodes stay put: _last points into one
    std::string _key;
    std::string* _last = nullptr;
    std::string_view _last_name;
    std::uint64_t _last_block = 0;
};

void update_grants(batch_cache& cache, const events::event& ev) {
    const auto* granted = std::get_if<events::role_granted>(&ev.data);
    const auto* revoked = std::get_if<events::role_revoked>(&ev.data);
    if (!granted && !revoked) return;
    grants& g = cache.grants_for_update(ev.env.entity_id);
    const auto at = micros(ev.env.occurred);
    if (granted) {
        grant item{granted->role, granted->system, at, std::nullopt, std::nullopt};
        if (granted->valid_until) {
            const auto p = events::parse_rfc3339(*granted->valid_until);
            if (p.problem == events::time_problem::none) item.until_us = micros(p.at);
        }
        g.items.push_back(std::move(item));
    } else {
        for (auto& item : g.items) {
            if (item.role == revoked->role && item.system == revoked->system && !item.revoked_us) item.revoked_us = at;
        }
    }
}

}  // namespace

prepared_record prepare(raw_record record) {
    prepared_record out;
    out.offset = record.offset;
    out.timestamp_ms = record.timestamp_ms;
    out.content = events::sha256(record.payload);
    // The document is kept only for a signed event: the rules need it for nothing else.
    // Decoded where it is kept: moving an event costs a move of each of its strings.
    if (auto e = events::decode_record_lean(record.payload, out.event.emplace())) {
        out.event.reset();
        out.problem = e->field.empty() ? e->message : fmt::format("{} ({})", e->message, e->field);
    } else {
        if (!events::is_canonical(record.payload)) {
            out.record_findings.push_back(
                {"non_canonical_record",
                 fmt::format("offset {} is not the RFC 8785 form the gateway writes: the record was written around it "
                             "or altered (its content hash is over other bytes than the canonical ones)",
                             record.offset)});
        }
        if (record.timestamp_ms > 0) {
            const auto recorded_ms = micros(out.event->recorded) / 1000;
            const auto apart_ms = recorded_ms - record.timestamp_ms;
            if (apart_ms > recorded_at_tolerance_ms || -apart_ms > recorded_at_tolerance_ms) {
                out.record_findings.push_back(
                    {"recorded_at_mismatch",
                     fmt::format("offset {}: recorded_at {} is {} {} the broker's timestamp {}: the ledger did not "
                                 "record it then",
                                 record.offset, out.event->recorded_at,
                                 events::duration_words(std::chrono::seconds(apart_ms / 1000)),
                                 apart_ms < 0 ? "before" : "after",
                                 events::format_utc(events::timestamp{std::chrono::milliseconds(record.timestamp_ms)}))});
            }
        }
    }
    out.payload = std::move(record.payload);
    return out;
}

void chain_ahead(std::vector<prepared_record>& records, head& through) {
    for (auto& r : records) {
        if (r.offset != through.next_offset) continue;  // skipped or past a gap: the writer decides
        r.chained_from = through.chain;
        r.chain = events::chain_hash(through.chain, r.content, r.offset);
        through.chain = *r.chain;
        through.next_offset = r.offset + 1;
    }
}

namespace {

/// Runs `body(attempt)`, one write transaction, again (whole) after growing the map while LMDB
/// says MDB_MAP_FULL, up to 16 times; any other LMDB error fails naming the data directory.
template <class Body>
auto with_map_growth(store& s, Body&& body) -> decltype(body(0)) {
    for (int attempt = 0;; ++attempt) {
        try {
            return body(attempt);
        } catch (const lmdb_error& e) {
            if (e.code() == MDB_MAP_FULL && attempt < 16) {
                s.grow();  // the transaction was aborted
                continue;
            }
            return failure(errc::cannot_open, fmt::format("Cannot write the read models: {}", e.what()), "data");
        }
    }
}

}  // namespace

projector::projector(store& s, projector_options options)
    : _store(s),
      _options(options),
      _checkpointed_through(last_checkpoint_offset(s)),
      _applied_through(s.current_head().next_offset - 1),
      _calendar(load_calendar(s)),
      _sla(s.policy(), _calendar) {}

std::int64_t projector::last_checkpoint_offset(store& s) {
    store::reader r(s);
    cursor c(r.get(), s.checkpoints);
    if (!c.last()) return -1;
    return static_cast<std::int64_t>(read_be64(c.key()));
}

bool projector::same_posted_content(write_txn& txn, std::int64_t original, std::string_view bytes) const {
    const auto stored = txn.get(_store.log, be64(static_cast<std::uint64_t>(original)));
    if (!stored) return false;
    auto posted = [](std::string_view record) {
        auto j = nlohmann::json::parse(record, nullptr, false);
        if (j.is_object()) {
            j.erase("producer");  // the ledger's fields: a retry may carry others
            j.erase("recorded_at");
        }
        return j;
    };
    const auto a = posted(decode<log_row>(*stored).bytes);
    return !a.is_discarded() && a == posted(bytes);
}

checkpoint_row projector::sign_checkpoint(write_txn& txn, const head& at) {
    checkpoint_row cp;
    cp.offset = at.next_offset - 1;
    cp.chain_hash = events::as_bytes(at.chain);
    cp.public_key = _store.public_key();
    cp.signature =
        events::ed25519_sign(_store.secret_key(), checkpoint_message(_store.topic(), cp.offset, events::to_hex(at.chain)));
    cp.signed_at =
        events::format_utc(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    txn.append(_store.checkpoints, be64(static_cast<std::uint64_t>(cp.offset)), encode(cp));
    return cp;
}

result<std::optional<checkpoint_row>> projector::checkpoint_if_due() {
    const auto now = std::chrono::steady_clock::now();
    if (!_options.sign || _applied_through <= _checkpointed_through ||
        now - _last_checkpoint < _options.checkpoint_interval) {
        return std::optional<checkpoint_row>{};
    }
    return with_map_growth(_store, [&](int) -> result<std::optional<checkpoint_row>> {
        write_txn txn(_store.lmdb());
        const head h = _store.read_head(txn.get());
        if (h.next_offset - 1 <= _checkpointed_through) return std::optional<checkpoint_row>{};
        auto cp = sign_checkpoint(txn, h);
        txn.commit();
        _last_checkpoint = now;
        _checkpointed_through = cp.offset;
        return std::optional<checkpoint_row>{std::move(cp)};
    });
}

calendar projector::load_calendar(store& s) {
    store::reader r(s);
    return s.make_calendar(r.get());
}

std::string projector::checkpoint_message(const std::string& topic, std::int64_t offset,
                                          const std::string& chain_hash_hex) {
    return events::canonicalize(
        nlohmann::json{{"ledger", topic}, {"offset", offset}, {"chain_hash", chain_hash_hex}});
}

result<batch_result> projector::apply(const std::vector<raw_record>& records) {
    std::vector<prepared_record> prepared;
    prepared.reserve(records.size());
    for (const auto& r : records) prepared.push_back(prepare(r));
    return apply(prepared);
}

result<batch_result> projector::apply(const std::vector<prepared_record>& records) {
    return with_map_growth(_store, [&](int attempt) -> result<batch_result> {
        batch_result out;
        std::optional<error> gap;
        if (attempt > 0) _calendar = load_calendar(_store);  // undo the aborted batch's holidays
        write_txn txn(_store.lmdb());
        head h = _store.read_head(txn.get());
        bool first_event_known = txn.get(_store.meta, "first_event_us").has_value();
        batch_cache cache(_store, txn);
        // The trails by entity, actor and system, in blocks (model.h): what this batch adds to each.
        block_additions entity_blocks, actor_blocks, system_blocks;
        auto sign_checkpoint = [&](const head& at) { out.checkpoints.push_back(this->sign_checkpoint(txn, at)); };
        for (const auto& raw : records) {
            if (raw.offset < h.next_offset) {
                ++out.skipped;
                continue;
            }
            if (raw.offset > h.next_offset) {
                gap = error{make_error_code(errc::offset_gap),
                            fmt::format("The log skips from offset {} to {}: records were deleted from {}. "
                                        "The projector stops here.",
                                        h.next_offset, raw.offset, _store.topic()),
                            "offset"};
                break;
            }
            const auto chain = raw.chain && raw.chained_from == h.chain
                                   ? *raw.chain
                                   : events::chain_hash(h.chain, raw.content, raw.offset);
            log_row_view row;  // borrows from raw, chain and duplicate_problem until encoded below
            std::string duplicate_problem;
            row.bytes = raw.payload;
            row.content_hash = events::bytes_view(raw.content);
            row.chain_hash = events::bytes_view(chain);
            const std::string offset_key = be64(static_cast<std::uint64_t>(raw.offset));

            if (!raw.event) {
                row.kind = record_kind::undecodable;
                row.problem = raw.problem;
                finding_row f;
                f.finding = "undecodable_record";
                f.offset = raw.offset;
                f.detail = fmt::format("offset {} is not a ledger event: {}", raw.offset, row.problem);
                txn.append(_store.findings, offset_key + be64(0), encode(f));
            } else {
                const auto& rec = *raw.event;
                const auto& ev = rec.ev;
                row.occurred_us = micros(ev.env.occurred);
                row.recorded_us = micros(rec.recorded);
                std::uint64_t i = 0;  // the record's findings, in key order
                auto add_finding = [&](const raised& r) {
                    finding_row f{r.finding, ev.env.entity, ev.env.system, ev.env.id, raw.offset,
                                  r.detail,  row.occurred_us, r.severity};
                    txn.append(_store.findings, offset_key + be64(i++), encode(f));
                };
                for (const auto& r : raw.record_findings) add_finding(r);
                if (auto first = txn.put_new(_store.ids, ev.env.id, offset_key)) {
                    row.kind = record_kind::duplicate;
                    const auto original = static_cast<std::int64_t>(read_be64(*first));
                    duplicate_problem = fmt::format("event {} was applied at offset {}", ev.env.id, original);
                    row.problem = duplicate_problem;
                    if (!same_posted_content(txn, original, raw.payload)) {
                        add_finding({"conflicting_duplicate",
                                     fmt::format("offset {} reuses the id {} of the event at offset {} with other "
                                                 "content; it is not applied",
                                                 raw.offset, ev.env.id, original)});
                    }
                } else {
                    entity_record& entity = cache.entity_for_update(ev.env.entity);
                    const auto raised = judge(rec, entity, cache);
                    fold(entity, ev);
                    entity.seq += 1;
                    entity.last_offset = raw.offset;
                    entity.last_event_id = ev.env.id;
                    entity.last_type = ev.env.type;
                    entity.last_occurred_us = row.occurred_us;
                    update_grants(cache, ev);
                    const auto sla_start = std::chrono::steady_clock::now();
                    _sla.apply(rec, raw.offset, entity, cache);
                    out.sla_time += std::chrono::steady_clock::now() - sla_start;
                    if (!first_event_known) {
                        txn.put(_store.meta, "first_event_us", time_key(row.occurred_us));
                        first_event_known = true;
                    }
                    row.entity = ev.env.entity;
                    row.seq = entity.seq;
                    entity_blocks.add(ev.env.entity, entity_trail_block(entity.seq), offset_key);
                    const char byte = trail_block_byte(raw.offset);
                    actor_blocks.add(ev.env.actor, trail_block(raw.offset), {&byte, 1});
                    system_blocks.add(ev.env.system, trail_block(raw.offset), {&byte, 1});
                    char time_offset[16];  // the time index's key, made without an allocation
                    const auto when = time_key(row.occurred_us);
                    std::memcpy(time_offset, when.data(), 8);
                    std::memcpy(time_offset + 8, offset_key.data(), 8);
                    txn.put(_store.time_index, {time_offset, sizeof time_offset}, {});
                    for (const auto& r : raised) add_finding(r);
                }
            }
            encode_into(txn.append_reserved(_store.log, offset_key, encoded_size(row)), row);
            h.next_offset = raw.offset + 1;
            h.chain = chain;
            h.records += 1;
            ++out.applied;
            if (_options.sign && _options.checkpoint_every > 0 && h.next_offset % _options.checkpoint_every == 0) {
                sign_checkpoint(h);
            }
        }
        if (_options.sign && out.applied > 0 && out.checkpoints.empty() &&
            std::chrono::steady_clock::now() - _last_checkpoint >= _options.checkpoint_interval) {
            sign_checkpoint(h);
        }
        entity_blocks.write(txn, _store.entity_trail);
        actor_blocks.write(txn, _store.actor_trail);
        system_blocks.write(txn, _store.system_trail);
        cache.flush();
        _store.write_head(txn, h);
        txn.commit();
        _applied_through = h.next_offset - 1;
        if (!out.checkpoints.empty()) {
            _last_checkpoint = std::chrono::steady_clock::now();
            _checkpointed_through = out.checkpoints.back().offset;
        }
        out.after = h;
        if (gap) return *gap;
        return out;
    });
}

}  // namespace ledger::projections
