#include "projections/export.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/ed25519.h"
#include "events/hash.h"
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

std::string csv_field(std::string_view v) {
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
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

std::uint64_t export_log(store& s, std::ostream& out, export_format format, std::int64_t from, std::int64_t to) {
    store::reader r(s);
    const head h = s.read_head(r.get());
    const std::int64_t last = to < 0 ? h.next_offset - 1 : std::min(to, h.next_offset - 1);
    std::uint64_t written = 0;
    if (format == export_format::csv) {
        out << "offset,kind,content_hash,chain_hash,id,type,entity,system,actor,occurred_at,recorded_at,producer,"
               "record\r\n";
    } else {
        const json preamble{
            {"format", "audit-ledger-export/1"},
            {"ledger", s.topic()},
            {"partition", 0},
            {"chain",
             {{"genesis", events::to_hex(events::genesis())},
              {"rule", "content_hash = SHA-256(record bytes); chain_hash(n) = SHA-256(chain_hash(n-1) || "
                       "content_hash(n) || n as 8 bytes big endian), from genesis"}}},
            {"head", {{"applied_offset", h.next_offset - 1}, {"records", h.records}, {"chain_hash", events::to_hex(h.chain)}}}};
        std::string text = preamble.dump();
        text.pop_back();
        out << text << ",\"records\":[";
    }
    cursor c(r.get(), s.log);
    for (bool ok = c.seek(be64(static_cast<std::uint64_t>(std::max<std::int64_t>(from, 0)))); ok; ok = c.next()) {
        const auto offset = static_cast<std::int64_t>(read_be64(c.key()));
        if (offset > last) break;
        const auto row = decode<log_row>(c.value());
        if (format == export_format::csv) {
            out << record_csv(offset, row);
        } else {
            out << (written == 0 ? "\n" : ",\n") << record_json(offset, row);
        }
        ++written;
    }
    if (format == export_format::json) {
        out << "],\"checkpoints\":[";
        bool first = true;
        cursor cp(r.get(), s.checkpoints);
        for (bool ok = cp.first(); ok; ok = cp.next()) {
            const auto row = decode<checkpoint_row>(cp.value());
            if (row.offset < from || row.offset > last) continue;
            const auto chain_hex = events::to_hex(row.chain_hash);
            const json entry{{"offset", row.offset},
                             {"chain_hash", chain_hex},
                             {"message", projector::checkpoint_message(s.topic(), row.offset, chain_hex)},
                             {"public_key", events::base64_encode(row.public_key)},
                             {"signature", events::base64_encode(row.signature)},
                             {"signed_at", row.signed_at}};
            out << (first ? "\n" : ",\n") << entry.dump();
            first = false;
        }
        out << "]}\n";
    }
    out.flush();
    return written;
}

}  // namespace ledger::projections
