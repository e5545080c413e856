#include "projections/export.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/ed25519.h"
#include "events/hash.h"
#include "projections/csv.h"
#include "projections/model.h"
#include "projections/projector.h"

namespace ledger::projections {
namespace {

using nlohmann::json;

std::string_view kind_name(record_kind k) {
    switch (k) {
        case record_kind::event: return "event";
        case record_kind::duplicate: return "duplicate";
        case record_kind::undecodable: return "undecodable";
    }
    return "unknown";
}

/// The record's text, or nullopt when its bytes are not UTF-8 (anyone can write to Kafka).
std::optional<std::string> as_json_string(const std::string& bytes) {
    try {
        return json(bytes).dump();
    } catch (const json::type_error&) {
        return std::nullopt;
    }
}

std::string record_json(std::int64_t offset, const log_row& row) {
    json entry{{"offset", offset},
               {"kind", kind_name(row.kind)},
               {"content_hash", events::to_hex(row.content_hash)},
               {"chain_hash", events::to_hex(row.chain_hash)}};
    std::string text = entry.dump();
    text.pop_back();  // '}' — the record goes last, as text
    if (auto s = as_json_string(row.bytes)) {
        text += ",\"record\":" + *s + "}";
    } else {
        text += ",\"record_base64\":" + json(events::base64_encode(row.bytes)).dump() + "}";
    }
    return text;
}

std::string record_csv(std::int64_t offset, const log_row& row) {
    std::string id, type, entity, system, actor, occurred, recorded, producer;
    if (row.kind != record_kind::undecodable) {
        const auto j = json::parse(row.bytes, nullptr, false);
        if (j.is_object()) {
            auto field = [&](const char* name) { return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string(); };
            id = field("id"), type = field("type"), entity = field("entity"), system = field("system");
            actor = field("actor"), occurred = field("occurred_at"), recorded = field("recorded_at");
            producer = field("producer");
        }
    }
    std::string record = row.bytes;
    if (!as_json_string(row.bytes)) record = "base64:" + events::base64_encode(row.bytes);
    return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", offset, kind_name(row.kind),
                       events::to_hex(row.content_hash), events::to_hex(row.chain_hash), csv_field(id), csv_field(type),
                       csv_field(entity), csv_field(system), csv_field(actor), csv_field(occurred),
                       csv_field(recorded), csv_field(producer), csv_field(record));
}

}  // namespace

result<export_format> parse_export_format(std::string_view text) {
    if (text == "json") return export_format::json;
    if (text == "csv") return export_format::csv;
    return failure(events::errc::invalid_value, fmt::format("format '{}' is not csv or json.", text), "format");
}

export_stream::export_stream(store& s, export_format format, std::int64_t from, std::int64_t to)
    : _s(s), _format(format), _from(std::max<std::int64_t>(from, 0)) {
    store::reader r(s);
    _head = s.read_head(r.get());
    _last = to < 0 ? _head.next_offset - 1 : std::min(to, _head.next_offset - 1);
    _next = _from;
    cursor cp(r.get(), s.checkpoints);
    if (cp.last()) _last_checkpoint = std::string(cp.key());
    _next_checkpoint = be64(static_cast<std::uint64_t>(_from));
}

bool export_stream::next(std::string& out, std::size_t budget) {
    const auto start = out.size();
    auto full = [&] { return out.size() - start >= budget; };
    switch (_stage) {
        case stage::preamble:
            if (_format == export_format::csv) {
                out += "offset,kind,content_hash,chain_hash,id,type,entity,system,actor,occurred_at,recorded_at,"
                       "producer,record\r\n";
            } else {
                const json preamble{
                    {"format", "audit-ledger-export/1"},
                    {"ledger", _s.topic()},
                    {"partition", 0},
                    {"chain",
                     {{"genesis", events::to_hex(events::genesis())},
                      {"rule", "content_hash = SHA-256(record bytes); chain_hash(n) = SHA-256(chain_hash(n-1) || "
                               "content_hash(n) || n as 8 bytes big endian), from genesis"}}},
                    {"head",
                     {{"applied_offset", _head.next_offset - 1},
                      {"records", _head.records},
                      {"chain_hash", events::to_hex(_head.chain)}}}};
                std::string text = preamble.dump();
                text.pop_back();
                out += text + ",\"records\":[";
            }
            _stage = stage::records;
            return true;
        case stage::records: {
            if (_next <= _last) {
                store::reader r(_s);
                cursor c(r.get(), _s.log);
                for (bool ok = c.seek(be64(static_cast<std::uint64_t>(_next))); ok && !full(); ok = c.next()) {
                    const auto offset = static_cast<std::int64_t>(read_be64(c.key()));
                    if (offset > _last) break;
                    const auto row = decode<log_row>(c.value());
                    if (_format == export_format::csv) {
                        out += record_csv(offset, row);
                    } else {
                        out += (_records == 0 ? "\n" : ",\n");
                        out += record_json(offset, row);
                    }
                    ++_records;
                    _next = offset + 1;
                }
                if (out.size() > start && _next <= _last) return true;
            }
            _next = _last + 1;
            _stage = _format == export_format::json ? stage::checkpoints_open : stage::done;
            if (out.size() > start) return true;
            return next(out, budget);
        }
        case stage::checkpoints_open:
            out += "],\"checkpoints\":[";
            _stage = stage::checkpoints;
            return true;
        case stage::checkpoints: {
            bool more = false;
            if (!_last_checkpoint.empty()) {
                store::reader r(_s);
                cursor cp(r.get(), _s.checkpoints);
                for (bool ok = cp.seek(_next_checkpoint); ok; ok = cp.next()) {
                    if (cp.key() > std::string_view(_last_checkpoint)) break;
                    if (full()) {
                        _next_checkpoint = std::string(cp.key());
                        more = true;
                        break;
                    }
                    const auto row = decode<checkpoint_row>(cp.value());
                    if (row.offset < _from || row.offset > _last) continue;
                    const auto chain_hex = events::to_hex(row.chain_hash);
                    const json entry{{"offset", row.offset},
                                     {"chain_hash", chain_hex},
                                     {"message", projector::checkpoint_message(_s.topic(), row.offset, chain_hex)},
                                     {"public_key", events::base64_encode(row.public_key)},
                                     {"signature", events::base64_encode(row.signature)},
                                     {"signed_at", row.signed_at}};
                    out += _first_checkpoint ? "\n" : ",\n";
                    out += entry.dump();
                    _first_checkpoint = false;
                }
            }
            if (!more) {
                out += "]}\n";
                _stage = stage::done;
            }
            return true;
        }
        case stage::done: return false;
    }
    return false;
}

std::uint64_t export_log(store& s, std::ostream& out, export_format format, std::int64_t from, std::int64_t to) {
    export_stream stream(s, format, from, to);
    std::string piece;
    while (stream.next(piece)) {
        out << piece;
        piece.clear();
    }
    out.flush();
    return stream.records();
}

}  // namespace ledger::projections
