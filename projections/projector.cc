#include "projections/projector.h"

#include <cstring>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "events/event.h"
#include "events/hash.h"
#include "events/time.h"
#include "projections/rules.h"

namespace ledger::projections {
namespace {

std::string bytes_of(const events::sha256_digest& d) {
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::int64_t micros(events::timestamp t) { return t.time_since_epoch().count(); }

/// Lookups inside the batch's write transaction, which sees the batch's own writes.
class txn_lookup final : public lookup {
public:
    txn_lookup(store& s, write_txn& txn) : _s(s), _txn(txn) {}
    std::optional<entity_record> entity(const std::string& entity) override {
        auto v = _txn.get(_s.entities, entity);
        if (!v) return std::nullopt;
        return decode<entity_record>(*v);
    }
    std::vector<grant> grants_of(const std::string& actor) override {
        auto v = _txn.get(_s.grants, actor);
        if (!v) return {};
        return decode<grants>(*v).items;
    }

private:
    store& _s;
    write_txn& _txn;
};

void update_grants(store& s, write_txn& txn, const events::event& ev) {
    const auto* granted = std::get_if<events::role_granted>(&ev.data);
    const auto* revoked = std::get_if<events::role_revoked>(&ev.data);
    if (!granted && !revoked) return;
    const std::string& actor = ev.env.entity_id;
    grants g;
    if (auto v = txn.get(s.grants, actor)) g = decode<grants>(*v);
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
    txn.put(s.grants, actor, encode(g));
}

}  // namespace

projector::projector(store& s, projector_options options) : _store(s), _options(options) {}

std::string projector::checkpoint_message(const std::string& topic, std::int64_t offset,
                                          const std::string& chain_hash_hex) {
    return events::canonicalize(
        nlohmann::json{{"ledger", topic}, {"offset", offset}, {"chain_hash", chain_hash_hex}});
}

result<batch_result> projector::apply(const std::vector<raw_record>& records) {
    for (int attempt = 0;; ++attempt) {
        batch_result out;
        std::optional<error> gap;
        try {
            write_txn txn(_store.lmdb());
            head h = _store.read_head(txn.get());
            txn_lookup look(_store, txn);
            auto sign_checkpoint = [&](const head& at) {
                checkpoint_row cp;
                cp.offset = at.next_offset - 1;
                cp.chain_hash = bytes_of(at.chain);
                cp.public_key = _store.public_key();
                cp.signature = events::ed25519_sign(
                    _store.secret_key(), checkpoint_message(_store.topic(), cp.offset, events::to_hex(at.chain)));
                cp.signed_at = events::format_utc(std::chrono::time_point_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now()));
                txn.put(_store.checkpoints, be64(static_cast<std::uint64_t>(cp.offset)), encode(cp));
                out.checkpoints.push_back(cp);
            };
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
                const auto content = events::sha256(raw.payload);
                const auto chain = events::chain_hash(h.chain, content, raw.offset);
                log_row row;
                row.bytes = raw.payload;
                row.content_hash = bytes_of(content);
                row.chain_hash = bytes_of(chain);
                const std::string offset_key = be64(static_cast<std::uint64_t>(raw.offset));

                auto decoded = events::decode_record(raw.payload);
                if (!decoded) {
                    row.kind = record_kind::undecodable;
                    row.problem = decoded.error().field.empty()
                                      ? decoded.error().message
                                      : fmt::format("{} ({})", decoded.error().message, decoded.error().field);
                    finding_row f;
                    f.finding = "undecodable_record";
                    f.offset = raw.offset;
                    f.detail = fmt::format("offset {} is not a ledger event: {}", raw.offset, row.problem);
                    txn.put(_store.findings, offset_key + be64(0), encode(f));
                } else {
                    const auto& rec = decoded.value();
                    const auto& ev = rec.ev;
                    row.occurred_us = micros(ev.env.occurred);
                    row.recorded_us = micros(rec.recorded);
                    if (auto first = txn.get(_store.ids, ev.env.id)) {
                        row.kind = record_kind::duplicate;
                        row.problem = fmt::format("event {} was applied at offset {}", ev.env.id, read_be64(*first));
                    } else {
                        txn.put(_store.ids, ev.env.id, offset_key);
                        entity_record entity;
                        if (auto v = txn.get(_store.entities, ev.env.entity)) entity = decode<entity_record>(*v);
                        const auto raised = judge(rec, entity, look);
                        fold(entity, ev);
                        entity.seq += 1;
                        entity.last_offset = raw.offset;
                        entity.last_event_id = ev.env.id;
                        entity.last_type = ev.env.type;
                        entity.last_occurred_us = row.occurred_us;
                        txn.put(_store.entities, ev.env.entity, encode(entity));
                        update_grants(_store, txn, ev);
                        row.entity = ev.env.entity;
                        row.seq = entity.seq;
                        txn.put(_store.entity_trail, prefixed(ev.env.entity, entity.seq), offset_key);
                        txn.put(_store.actor_trail, prefixed(ev.env.actor, static_cast<std::uint64_t>(raw.offset)), {});
                        txn.put(_store.system_trail, prefixed(ev.env.system, static_cast<std::uint64_t>(raw.offset)),
                                {});
                        txn.put(_store.time_index, time_key(row.occurred_us) + offset_key, {});
                        std::uint64_t i = 0;
                        for (const auto& r : raised) {
                            finding_row f{r.finding, ev.env.entity, ev.env.system, ev.env.id, raw.offset,
                                          r.detail,  row.occurred_us, r.severity};
                            txn.put(_store.findings, offset_key + be64(i++), encode(f));
                        }
                    }
                }
                txn.put(_store.log, offset_key, encode(row));
                h.next_offset = raw.offset + 1;
                h.chain = chain;
                h.records += 1;
                ++out.applied;
                if (_options.checkpoint_every > 0 && h.next_offset % _options.checkpoint_every == 0) {
                    sign_checkpoint(h);
                }
            }
            if (out.applied > 0 && out.checkpoints.empty() &&
                std::chrono::steady_clock::now() - _last_checkpoint >= _options.checkpoint_interval) {
                sign_checkpoint(h);
            }
            _store.write_head(txn, h);
            txn.commit();
            if (!out.checkpoints.empty()) _last_checkpoint = std::chrono::steady_clock::now();
            out.after = h;
        } catch (const lmdb_error& e) {
            if (e.code() == MDB_MAP_FULL && attempt < 16) {
                _store.grow();  // the transaction was aborted; the batch runs again, whole
                continue;
            }
            return failure(errc::cannot_open, fmt::format("Cannot write the read models: {}", e.what()), "data");
        }
        if (gap) return *gap;
        return out;
    }
}

}  // namespace ledger::projections
