#pragma once
// What the read models store, encoded with cereal (compact_archive.h: cereal's binary layout with
// variable-length integers), each value led by its type's version, and the byte layout of their
// keys. LMDB orders keys bytewise, so numbers in keys are big endian and signed times have their
// sign bit flipped.

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include "projections/compact_archive.h"

namespace ledger::projections {

/// The read models' format. A data directory written by another format is refused.
inline constexpr std::uint32_t format_version = 4;

/// What one offset of the log holds.
enum class record_kind : std::uint8_t {
    event = 0,        ///< a valid event, applied
    duplicate = 1,    ///< a valid event whose id was applied at an earlier offset: not applied again
    undecodable = 2,  ///< not a ledger event: quarantined with the finding undecodable_record
};

/// One offset of the log: the record's exact bytes and its place in the chain.
struct log_row {
    static constexpr std::uint32_t version = 1;  ///< written first in its encoding
    record_kind kind = record_kind::event;
    std::string bytes;         ///< the Kafka record value, exactly
    std::string content_hash;  ///< 32 bytes
    std::string chain_hash;    ///< 32 bytes
    std::string entity;        ///< empty unless kind == event
    std::uint64_t seq = 0;     ///< position in the entity, for kind == event
    std::int64_t occurred_us = 0;
    std::int64_t recorded_us = 0;
    std::string problem;       ///< why it is undecodable, or which offset holds the original

    template <class A>
    void serialize(A& a) {
        a(kind, bytes, content_hash, chain_hash, entity, seq, occurred_us, recorded_us, problem);
    }
};

/// A log_row to write, its strings borrowed: the projector writes one per record and copying
/// the record's bytes and hashes into a log_row first cost three allocations. Written with
/// encode_into() to exactly the bytes of the log_row with the same contents (tested), and read
/// back as a log_row.
struct log_row_view {
    static constexpr std::uint32_t version = log_row::version;  ///< it encodes a log_row
    record_kind kind = record_kind::event;
    std::string_view bytes;
    std::string_view content_hash;
    std::string_view chain_hash;
    std::string_view entity;
    std::uint64_t seq = 0;
    std::int64_t occurred_us = 0;
    std::int64_t recorded_us = 0;
    std::string_view problem;
};

/// The size of `row` encoded: what encode() makes of the log_row with the same contents.
[[nodiscard]] inline std::size_t encoded_size(const log_row_view& row) {
    using compact::varint_size, compact::zigzag;
    auto text = [](std::string_view s) { return varint_size(s.size()) + s.size(); };
    return varint_size(log_row_view::version) + 1 + text(row.bytes) + text(row.content_hash) + text(row.chain_hash) +
           text(row.entity) + varint_size(row.seq) + varint_size(zigzag(row.occurred_us)) +
           varint_size(zigzag(row.recorded_us)) + text(row.problem);
}
/// Writes `row` encoded into `out`, which has room for encoded_size(row) bytes: the layout of
/// compact_archive.h for a log_row, written straight into memory of its exact size (LMDB's page,
/// with MDB_RESERVE). Encoding it into a string that LMDB then copied cost the writer a copy of
/// every record and a cereal archive's overhead.
inline void encode_into(char* out, const log_row_view& row) {
    using compact::put_varint, compact::zigzag;
    auto text = [&out](std::string_view s) {
        out = put_varint(out, s.size());
        if (!s.empty()) std::memcpy(out, s.data(), s.size());
        out += s.size();
    };
    out = put_varint(out, log_row_view::version);
    *out++ = static_cast<char>(row.kind);
    text(row.bytes);
    text(row.content_hash);
    text(row.chain_hash);
    text(row.entity);
    out = put_varint(out, row.seq);
    out = put_varint(out, zigzag(row.occurred_us));
    out = put_varint(out, zigzag(row.recorded_us));
    text(row.problem);
}

/// The status of one entity after the events applied to it so far.
struct entity_record {
    static constexpr std::uint32_t version = 1;  ///< written first in its encoding
    std::string entity;
    std::string system;
    std::string state;
    std::uint64_t seq = 0;
    std::int64_t last_offset = -1;
    std::string last_event_id;
    std::string last_type;
    std::int64_t last_occurred_us = 0;
    /// The fields that matter, by name (digests, the route's window, the key's not_after...).
    std::map<std::string, std::string, std::less<>> fields;
    /// Facts the rules need: e.g. "approved_start", "approved_production", "closed".
    std::set<std::string, std::less<>> flags;
    /// Actors who deployed this change (four eyes).
    std::set<std::string, std::less<>> deployers;
    /// Times the rules need, in µs since the epoch (e.g. "activated", "revoked", "not_after").
    std::map<std::string, std::int64_t, std::less<>> times;

    // Looked up by any string (std::less<>): the rules ask with literals, which need no std::string.
    [[nodiscard]] bool has(std::string_view flag) const { return flags.find(flag) != flags.end(); }
    [[nodiscard]] std::optional<std::string> field(std::string_view name) const {
        const auto it = fields.find(name);
        return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    [[nodiscard]] std::optional<std::int64_t> time(std::string_view name) const {
        const auto it = times.find(name);
        return it == times.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
    }
    /// Sets a field; one already there keeps its node and key (no key made to find it).
    void set_field(std::string_view name, std::string_view value) {
        if (const auto it = fields.lower_bound(name); it != fields.end() && it->first == name) {
            it->second.assign(value);
        } else {
            fields.emplace_hint(it, name, value);
        }
    }

    template <class A>
    void serialize(A& a) {
        a(entity, system, state, seq, last_offset, last_event_id, last_type, last_occurred_us, fields, flags,
          deployers, times);
    }
};

/// A role held by an actor (role.granted ... role.revoked), times in µs of occurred_at.
struct grant {
    std::string role;
    std::string system;  ///< or "*"
    std::int64_t from_us = 0;
    std::optional<std::int64_t> until_us;    ///< valid_until
    std::optional<std::int64_t> revoked_us;  ///< when a role.revoked ended it

    template <class A>
    void serialize(A& a) {
        a(role, system, from_us, until_us, revoked_us);
    }
};

struct grants {
    static constexpr std::uint32_t version = 1;  ///< written first in its encoding
    std::vector<grant> items;
    template <class A>
    void serialize(A& a) {
        a(items);
    }
};

/// A compliance finding (domain.md 3.2), raised by the event at `offset`.
struct finding_row {
    static constexpr std::uint32_t version = 1;  ///< written first in its encoding
    std::string finding;
    std::string entity;
    std::string system;
    std::string event_id;
    std::int64_t offset = 0;
    std::string detail;
    std::int64_t occurred_us = 0;
    std::string severity = "violation";  ///< or "info" (emergency_change)

    template <class A>
    void serialize(A& a) {
        a(finding, entity, system, event_id, offset, detail, occurred_us, severity);
    }
};

/// A signed checkpoint: the ledger's Ed25519 signature over the canonical JSON
/// {"chain_hash","ledger","offset"} (hex hash, decimal offset).
struct checkpoint_row {
    static constexpr std::uint32_t version = 1;  ///< written first in its encoding
    std::int64_t offset = 0;
    std::string chain_hash;  ///< 32 bytes
    std::string public_key;  ///< 32 bytes
    std::string signature;   ///< 64 bytes
    std::string signed_at;   ///< RFC 3339 UTC

    template <class A>
    void serialize(A& a) {
        a(offset, chain_hash, public_key, signature, signed_at);
    }
};

/// An SLA obligation (domain.md 3.3): started by an event, met by another, with a deadline.
/// Its state as of any time is derived from these facts (obligation_at in obligations.h).
struct obligation_row {
    static constexpr std::uint32_t version = 0;  ///< written first in its encoding
    std::string obligation;  ///< incident_resolution, maintenance_notice, ...
    std::string entity;
    std::string system;
    std::string event_id;           ///< the event that started it
    std::int64_t start_offset = -1;
    std::int64_t started_us = 0;    ///< occurred_at of that event
    /// The deadline, and when it took effect: recategorising an incident changes it from then on.
    std::vector<std::pair<std::int64_t, std::int64_t>> dues;  ///< (from µs, due µs), ascending
    std::optional<std::int64_t> met_us;
    std::int64_t met_offset = -1;
    std::optional<std::int64_t> waived_us;  ///< e.g. a category C incident's workaround
    bool lapses_to_default = false;         ///< report_approval: unanswered at the due → approved_by_default
    std::int64_t warn_before_us = 0;        ///< key_rotation: warning while open this close to the due

    [[nodiscard]] std::int64_t due_at(std::int64_t t_us) const {
        std::int64_t due = dues.empty() ? 0 : dues.front().second;
        for (const auto& [from, d] : dues) {
            if (from <= t_us) due = d;
        }
        return due;
    }
    [[nodiscard]] std::int64_t final_due() const { return dues.empty() ? 0 : dues.back().second; }
    /// The earliest due it ever had: the deadline index's key, so a breach as of an earlier time
    /// under an earlier due is found too.
    [[nodiscard]] std::int64_t min_due() const {
        std::int64_t m = final_due();
        for (const auto& d : dues) m = std::min(m, d.second);
        return m;
    }
    /// Whether obligation_at() answers `breached` as of some time: the deadline index keeps exactly
    /// those, so a breach query agrees with the obligations at every as_of. Each due holds from its
    /// `from` to the next one's (the first from the start); within that span, and before a waiver,
    /// it is breached at t when unmet by t with the due before t, or met by t after the due. An
    /// incident late under its first category and recategorised before it was resolved is breached
    /// between the two even when it was resolved within its final due.
    [[nodiscard]] bool can_breach() const {
        if (lapses_to_default) return false;  // unanswered at the due: approved by default, never late
        if (dues.empty()) return true;         // no deadline recorded: kept, the query decides
        constexpr auto never = std::numeric_limits<std::int64_t>::max();
        for (std::size_t i = 0; i < dues.size(); ++i) {
            const std::int64_t due = dues[i].second;
            const std::int64_t lo = i == 0 ? started_us : std::max(started_us, dues[i].first);
            std::int64_t hi = i + 1 < dues.size() ? dues[i + 1].first : never;  // [lo, hi)
            if (waived_us) hi = std::min(hi, *waived_us);
            if (lo >= hi) continue;
            const std::int64_t unmet_until = met_us ? std::min(hi, *met_us) : hi;  // [lo, unmet_until): unmet
            if (unmet_until > lo && unmet_until - 1 > due) return true;            // some t > due in it
            if (met_us && *met_us > due && std::max(lo, *met_us) < hi) return true;  // met late, seen in it
        }
        return false;
    }

    template <class A>
    void serialize(A& a) {
        a(obligation, entity, system, event_id, start_offset, started_us, dues, met_us, met_offset, waived_us,
          lapses_to_default, warn_before_us);
    }
};

/// The first report.submitted of a kind for a period (the monthly calendar obligations).
struct report_fact {
    static constexpr std::uint32_t version = 0;  ///< written first in its encoding
    std::string entity;
    std::string system;
    std::int64_t offset = 0;
    std::int64_t occurred_us = 0;

    template <class A>
    void serialize(A& a) {
        a(entity, system, offset, occurred_us);
    }
};

// Versions: each stored value begins with T::version (LEB128), written and checked here rather
// than by cereal's class versioning, whose bookkeeping (a hash-set node and a registry lookup per
// type per archive) cost more than encoding the fields of a log row. Types inside a value (a
// grant in grants) are covered by the version of the value. A type without a `version` member
// is encoded as its fields alone.
template <typename T>
concept versioned_value = requires { { T::version } -> std::convertible_to<std::uint32_t>; };

/// Encodes `value` into `out`, replacing what it held (its memory is reused).
template <typename T>
void encode_to(std::string& out, const T& value) {
    out.clear();
    compact_output_archive archive(out);
    if constexpr (versioned_value<T>) archive(T::version);
    archive(value);
}

template <typename T>
[[nodiscard]] std::string encode(const T& value) {
    // Sized as the last value of this type was, so that appending seldom reallocates.
    thread_local std::size_t expected = 128;
    std::string out;
    out.reserve(expected);
    encode_to(out, value);
    expected = out.size() + out.size() / 8;
    return out;
}

/// Throws cereal::Exception on bytes that are not a T of this version.
template <typename T>
[[nodiscard]] T decode(std::string_view bytes) {
    compact_input_archive archive(bytes);
    if constexpr (versioned_value<T>) {
        std::uint32_t version = 0;
        archive(version);
        if (version != T::version) {
            throw cereal::Exception("the value has version " + std::to_string(version) + ", not " +
                                    std::to_string(T::version) + " as this build reads it");
        }
    }
    T value;
    archive(value);
    if (archive.remaining() != 0) {
        throw cereal::Exception(std::to_string(archive.remaining()) + " bytes are left after the value");
    }
    return value;
}

// ---- keys ----

/// 8 bytes big endian.
[[nodiscard]] inline std::string be64(std::uint64_t v) {
    std::string out(8, '\0');
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
    return out;
}
[[nodiscard]] inline std::uint64_t read_be64(std::string_view bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
    return v;
}
/// A signed time as a key that sorts in time order.
[[nodiscard]] inline std::string time_key(std::int64_t us) {
    return be64(static_cast<std::uint64_t>(us) ^ (std::uint64_t{1} << 63));
}
[[nodiscard]] inline std::int64_t read_time_key(std::string_view bytes) {
    return static_cast<std::int64_t>(read_be64(bytes) ^ (std::uint64_t{1} << 63));
}
/// Appends `name` NUL then `n` in 8 bytes big endian: a prefix that cannot run into a longer name.
inline void append_prefixed(std::string& out, std::string_view name, std::uint64_t n) {
    out.append(name);
    out.push_back('\0');
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
}
/// `name` NUL then 8 bytes: a prefix that cannot run into a longer name.
[[nodiscard]] inline std::string prefixed(std::string_view name, std::uint64_t n) {
    std::string out;
    out.reserve(name.size() + 9);
    append_prefixed(out, name, n);
    return out;
}

// ---- trail by entity ----
// An entity's events in blocks of 64 by seq: `entity \0 block(8)` -> the offsets of its events
// with seq in that block, 8 bytes big endian each, in seq order. A batch adds to each block it
// touches once (a read and a put per entity) instead of a put per event; a block holds at most
// 512 bytes, so appending to it stays cheap however long the entity's trail grows.
inline constexpr unsigned entity_trail_block_bits = 6;

[[nodiscard]] inline std::uint64_t entity_trail_block(std::uint64_t seq) { return seq >> entity_trail_block_bits; }
[[nodiscard]] inline std::string entity_trail_key(std::string_view entity, std::uint64_t seq) {
    return prefixed(entity, entity_trail_block(seq));
}
/// The offsets an entity_trail block holds, in seq order.
template <typename F>
void for_each_entity_offset(std::string_view value, F&& f) {
    for (std::size_t i = 0; i + 8 <= value.size(); i += 8) f(static_cast<std::int64_t>(read_be64(value.substr(i, 8))));
}

// ---- trails by actor and by system ----
// The offsets of one actor (or system) in a block of 256 offsets are kept under one key:
// `name \0 block(8)` -> one byte per offset, its low 8 bits, ascending. Blocks are fixed by the
// offsets alone, so the bytes do not depend on how the log was cut into batches; a batch adds
// to each block it touches once, instead of a put per event.
inline constexpr unsigned trail_block_bits = 8;

[[nodiscard]] inline std::uint64_t trail_block(std::int64_t offset) {
    return static_cast<std::uint64_t>(offset) >> trail_block_bits;
}
[[nodiscard]] inline std::string trail_block_key(std::string_view name, std::int64_t offset) {
    return prefixed(name, trail_block(offset));
}
[[nodiscard]] inline char trail_block_byte(std::int64_t offset) {
    return static_cast<char>(static_cast<std::uint64_t>(offset) & ((1u << trail_block_bits) - 1));
}
/// The offset a block's byte stands for, given the block's key (its last 8 bytes).
[[nodiscard]] inline std::int64_t trail_block_offset(std::string_view key, char byte) {
    return static_cast<std::int64_t>((read_be64(key.substr(key.size() - 8)) << trail_block_bits) |
                                     static_cast<unsigned char>(byte));
}
/// The offsets a block holds, given its key and its value.
template <typename F>
void for_each_trail_offset(std::string_view key, std::string_view value, F&& f) {
    for (const char b : value) f(trail_block_offset(key, b));
}

}  // namespace ledger::projections
