#include "projections/queries.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "events/event.h"
#include "events/time.h"
#include "projections/csv.h"
#include "projections/model.h"
#include "projections/rules.h"
#include "projections/sla_queries.h"
#include "projections/times.h"

namespace ledger::projections {
namespace {

using nlohmann::json;

std::optional<log_row> row_at(store& s, MDB_txn* txn, std::int64_t offset) {
    const auto v = get(txn, s.log, be64(static_cast<std::uint64_t>(offset)));
    if (!v) return std::nullopt;
    return decode<log_row>(*v);
}

json event_json(store& s, std::int64_t offset, const log_row& row) {
    json out = json::parse(row.bytes, nullptr, false);
    if (out.is_discarded() || !out.is_object()) out = json::object();
    out["topic"] = s.topic();
    out["partition"] = 0;
    out["offset"] = offset;
    if (row.kind == record_kind::event) out["seq"] = row.seq;
    out["content_hash"] = events::to_hex(row.content_hash);
    out["chain_hash"] = events::to_hex(row.chain_hash);
    return out;
}

json finding_json(const finding_row& f) {
    json out{{"finding", f.finding},   {"entity", f.entity}, {"system", f.system}, {"event_id", f.event_id},
             {"offset", f.offset},     {"detail", f.detail}, {"severity", f.severity}};
    if (f.finding != "undecodable_record") out["occurred_at"] = iso(f.occurred_us);
    return out;
}

/// The findings raised at each of `offsets` (ascending), in key order, through one cursor.
json findings_at(store& s, MDB_txn* txn, const std::vector<std::int64_t>& offsets) {
    json out = json::array();
    cursor c(txn, s.findings);
    for (const auto offset : offsets) {
        const auto prefix = be64(static_cast<std::uint64_t>(offset));
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
            out.push_back(finding_json(decode<finding_row>(c.value())));
        }
    }
    return out;
}

/// Whether a record belongs in an answer as of a world time: an event that had occurred by then
/// (a record that is not an event has no world time, and is always shown).
bool occurred_by(const log_row& row, std::optional<std::int64_t> as_of_us) {
    return !as_of_us || row.kind != record_kind::event || row.occurred_us <= *as_of_us;
}

json trail_by_offsets(store& s, MDB_txn* txn, dbi index, const std::string& name, std::optional<std::int64_t> as_of_us) {
    json events = json::array();
    const std::string prefix = name + '\0';
    cursor c(txn, index);
    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        if (c.key().size() != prefix.size() + 8) continue;
        for_each_trail_offset(c.key(), c.value(), [&](std::int64_t offset) {
            if (auto row = row_at(s, txn, offset); row && occurred_by(*row, as_of_us)) {
                events.push_back(event_json(s, offset, *row));
            }
        });
    }
    return json{{"events", std::move(events)}};
}

}  // namespace

std::optional<json> entity_status(store& s, const std::string& entity, std::optional<std::int64_t> as_of_us) {
    store::reader r(s);
    auto* txn = r.get();
    entity_record rec;
    std::vector<std::int64_t> offsets;
    const std::string prefix = entity + '\0';
    {
        cursor c(txn, s.entity_trail);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
            if (c.key().size() != prefix.size() + 8) continue;
            for_each_entity_offset(c.value(), [&](std::int64_t offset) { offsets.push_back(offset); });
        }
    }
    if (offsets.empty()) return std::nullopt;
    std::vector<std::int64_t> included;
    if (!as_of_us) {
        auto v = r.txn().get(s.entities, entity);
        if (!v) return std::nullopt;
        rec = decode<entity_record>(*v);
        included = offsets;
    } else {
        // The entity's events that had occurred by then, in ledger order, folded afresh.
        for (const auto offset : offsets) {
            const auto row = row_at(s, txn, offset);
            if (!row || row->occurred_us > *as_of_us) continue;
            auto decoded = events::decode_record_lean(row->bytes);
            if (!decoded) continue;
            fold(rec, decoded.value().ev);
            rec.seq = row->seq;
            rec.last_offset = offset;
            rec.last_event_id = decoded.value().ev.env.id;
            rec.last_type = decoded.value().ev.env.type;
            rec.last_occurred_us = row->occurred_us;
            included.push_back(offset);
        }
        if (included.empty()) return std::nullopt;
    }
    const std::int64_t t_us = as_of_us.value_or(now_us());
    json obligations = entity_obligations(s, txn, entity, t_us);
    // An uptime report unanswered within the policy's days is approved by default (domain.md 3.3).
    if (rec.state == "submitted") {
        for (const auto& o : obligations) {
            if (o.value("approved_by_default", false)) rec.state = "approved_by_default";
        }
    }
    json findings = findings_at(s, txn, included);
    json out{{"entity", entity},
             {"kind", entity.substr(0, entity.find('/'))},
             {"system", rec.system},
             {"state", rec.state},
             {"seq", rec.seq},
             {"last_offset", rec.last_offset},
             {"last_event", {{"id", rec.last_event_id}, {"type", rec.last_type}, {"occurred_at", iso(rec.last_occurred_us)}}},
             {"fields", rec.fields},
             {"findings", std::move(findings)},
             {"obligations", std::move(obligations)}};
    if (as_of_us) out["as_of"] = iso(*as_of_us);
    if (entity.starts_with("actor/")) {
        json roles = json::array();
        if (auto v = r.txn().get(s.grants, entity.substr(6))) {
            for (const auto& g : decode<grants>(*v).items) {
                if (as_of_us && g.from_us > *as_of_us) continue;
                json item{{"role", g.role}, {"system", g.system}, {"granted_at", iso(g.from_us)}};
                if (g.until_us) item["valid_until"] = iso(*g.until_us);
                if (g.revoked_us && (!as_of_us || *g.revoked_us <= *as_of_us)) item["revoked_at"] = iso(*g.revoked_us);
                roles.push_back(std::move(item));
            }
        }
        out["roles"] = std::move(roles);
    }
    return out;
}

json entity_trail(store& s, const std::string& entity, std::optional<std::int64_t> as_of_us) {
    store::reader r(s);
    json events = json::array();
    const std::string prefix = entity + '\0';
    cursor c(r.get(), s.entity_trail);
    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        if (c.key().size() != prefix.size() + 8) continue;
        for_each_entity_offset(c.value(), [&](std::int64_t offset) {
            if (auto row = row_at(s, r.get(), offset); row && occurred_by(*row, as_of_us)) {
                events.push_back(event_json(s, offset, *row));
            }
        });
    }
    return json{{"entity", entity}, {"events", std::move(events)}};
}

json actor_trail(store& s, const std::string& actor, std::optional<std::int64_t> as_of_us) {
    store::reader r(s);
    auto out = trail_by_offsets(s, r.get(), s.actor_trail, actor, as_of_us);
    out["actor"] = actor;
    return out;
}

json system_trail(store& s, const std::string& system, std::optional<std::int64_t> as_of_us) {
    store::reader r(s);
    auto out = trail_by_offsets(s, r.get(), s.system_trail, system, as_of_us);
    out["system"] = system;
    return out;
}

json timeline(store& s, std::int64_t from_us, std::int64_t to_us, const std::string& system) {
    store::reader r(s);
    std::vector<std::int64_t> offsets;
    cursor c(r.get(), s.time_index);
    for (bool ok = c.seek(time_key(from_us)); ok; ok = c.next()) {
        if (read_time_key(c.key().substr(0, 8)) > to_us) break;
        offsets.push_back(static_cast<std::int64_t>(read_be64(c.key().substr(8))));
    }
    std::sort(offsets.begin(), offsets.end());
    json events = json::array();
    for (const auto offset : offsets) {
        auto row = row_at(s, r.get(), offset);
        if (!row) continue;
        auto e = event_json(s, offset, *row);
        if (!system.empty() && e.value("system", "") != system) continue;
        events.push_back(std::move(e));
    }
    return json{{"from", iso(from_us)}, {"to", iso(to_us)}, {"events", std::move(events)}};
}

json entities(store& s, const entity_filter& filter) {
    store::reader r(s);
    json out = json::array();
    const std::string prefix = filter.kind.empty() ? std::string() : filter.kind + "/";
    cursor c(r.get(), s.entities);
    for (bool ok = prefix.empty() ? c.first() : c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        const auto e = decode<entity_record>(c.value());
        if (!filter.system.empty() && e.system != filter.system) continue;
        out.push_back({{"entity", e.entity},
                       {"system", e.system},
                       {"state", e.state},
                       {"seq", e.seq},
                       {"last_offset", e.last_offset},
                       {"last_type", e.last_type},
                       {"last_occurred_at", iso(e.last_occurred_us)}});
    }
    return json{{"entities", std::move(out)}};
}

void findings_csv(const json& findings, std::ostream& out) {
    const auto field = csv_field;
    out << "finding,entity,system,event_id,offset,occurred_at,severity,detail\r\n";
    for (const auto& f : findings) {
        out << field(f.value("finding", "")) << ',' << field(f.value("entity", "")) << ','
            << field(f.value("system", "")) << ',' << field(f.value("event_id", "")) << ',' << f.value("offset", -1)
            << ',' << field(f.value("occurred_at", "")) << ',' << field(f.value("severity", "")) << ','
            << field(f.value("detail", "")) << "\r\n";
    }
}

json findings(store& s, const finding_filter& filter) {
    store::reader r(s);
    json out = json::array();
    cursor c(r.get(), s.findings);
    for (bool ok = c.first(); ok; ok = c.next()) {
        const auto f = decode<finding_row>(c.value());
        if (!filter.system.empty() && f.system != filter.system) continue;
        if (!filter.finding.empty() && f.finding != filter.finding) continue;
        if (f.finding != "undecodable_record") {
            if (filter.since_us && f.occurred_us < *filter.since_us) continue;
            if (filter.until_us && f.occurred_us > *filter.until_us) continue;
            if (filter.as_of_us && f.occurred_us > *filter.as_of_us) continue;
        }
        out.push_back(finding_json(f));
    }
    return json{{"findings", std::move(out)}};
}

std::optional<json> event_at(store& s, std::int64_t offset) {
    store::reader r(s);
    auto row = row_at(s, r.get(), offset);
    if (!row) return std::nullopt;
    return event_json(s, offset, *row);
}

std::string digest(store& s) {
    store::reader r(s);
    events::sha256_digest acc{};
    std::string buffer;
    auto flush = [&] {
        const auto h = events::sha256(events::as_bytes(acc) + buffer);
        acc = h;
        buffer.clear();
    };
    const std::pair<const char*, dbi> dbs[] = {
        {"meta", s.meta},           {"log", s.log},
        {"ids", s.ids},             {"entities", s.entities},
        {"entity_trail", s.entity_trail}, {"actor_trail", s.actor_trail},
        {"system_trail", s.system_trail}, {"time_index", s.time_index},
        {"findings", s.findings},   {"grants", s.grants},
        {"obligations", s.obligations}, {"deadlines", s.deadlines},
        {"sla_links", s.sla_links}, {"reports", s.reports},
    };
    for (const auto& [name, db] : dbs) {
        buffer += name;
        buffer.push_back('\0');
        cursor c(r.get(), db);
        for (bool ok = c.first(); ok; ok = c.next()) {
            if (db.handle == s.meta.handle && c.key() == "signer") continue;  // the directory's role, not the content
            buffer += be64(c.key().size());
            buffer += c.key();
            buffer += be64(c.value().size());
            buffer += c.value();
            if (buffer.size() > (1u << 20)) flush();
        }
    }
    flush();
    return events::to_hex(acc);
}

}  // namespace ledger::projections
