#pragma once
// A cereal archive pair for the read models' values: cereal's binary archive with its integers
// written as variable-length numbers (LEB128; signed ones zigzag-encoded first) and read from and
// written to memory directly instead of through iostreams.
//
// Why: most integers in the read models are small (sizes of strings and maps, sequence numbers,
// class versions) and cereal's binary archive writes each of them in 8 bytes: 40 % of an entity's
// encoding were zero bytes. Fewer bytes per value are fewer pages for LMDB to copy at every
// commit, and more log rows on a page.
//
// Layout: bool, char and 8-bit integers as one byte; wider integers (and cereal's sizes and class
// versions) as LEB128, 7 bits per byte, low bits first, at most 10 bytes; floating point as its
// bytes (little endian, as in memory on the platforms this builds for); strings and other binary
// data as a size and the bytes.
//
// The input archive reads from a view of the bytes (LMDB's own page) and throws
// cereal::Exception on anything that is not a valid encoding: bytes that end early, a number
// longer than its type, a size larger than what is left to read (so that damaged bytes never
// make it allocate more than the value's own length).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include <cereal/cereal.hpp>

namespace ledger::projections {

// The layout's numbers, for the archive below and for values written without one (encode_into).
namespace compact {
/// LEB128: 7 bits per byte, low bits first. Writes at most 10 bytes at `out`; returns the end.
inline char* put_varint(char* out, std::uint64_t v) {
    while (v >= 0x80) {
        *out++ = static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    *out++ = static_cast<char>(v);
    return out;
}
[[nodiscard]] inline std::size_t varint_size(std::uint64_t v) {
    std::size_t n = 1;
    for (; v >= 0x80; v >>= 7) ++n;
    return n;
}
/// A signed number as the unsigned one written for it (small magnitudes stay small).
[[nodiscard]] inline std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
}  // namespace compact

class compact_output_archive : public cereal::OutputArchive<compact_output_archive, cereal::AllowEmptyClassElision> {
public:
    explicit compact_output_archive(std::string& out)
        : cereal::OutputArchive<compact_output_archive, cereal::AllowEmptyClassElision>(this), _out(out) {}

    void save_bytes(const void* data, std::size_t size) { _out.append(static_cast<const char*>(data), size); }

    void save_varint(std::uint64_t v) {
        char buffer[10];
        _out.append(buffer, static_cast<std::size_t>(compact::put_varint(buffer, v) - buffer));
    }

private:
    std::string& _out;
};

class compact_input_archive : public cereal::InputArchive<compact_input_archive, cereal::AllowEmptyClassElision> {
public:
    explicit compact_input_archive(std::string_view in)
        : cereal::InputArchive<compact_input_archive, cereal::AllowEmptyClassElision>(this), _in(in) {}

    void load_bytes(void* data, std::size_t size) {
        if (size > _in.size() - _pos) {
            throw cereal::Exception("the value ends early: " + std::to_string(size) + " bytes wanted at byte " +
                                    std::to_string(_pos) + " of " + std::to_string(_in.size()));
        }
        if (size > 0) std::memcpy(data, _in.data() + _pos, size);
        _pos += size;
    }

    /// Reads a LEB128 number of at most `bits` bits.
    std::uint64_t load_varint(unsigned bits) {
        std::uint64_t v = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (_pos >= _in.size()) {
                throw cereal::Exception("the value ends early inside a number at byte " + std::to_string(_pos));
            }
            const auto byte = static_cast<unsigned char>(_in[_pos++]);
            const std::uint64_t part = byte & 0x7fu;
            if (shift >= bits || (bits - shift < 7 && (part >> (bits - shift)) != 0)) {
                throw cereal::Exception("a number at byte " + std::to_string(_pos - 1) + " is longer than " +
                                        std::to_string(bits) + " bits");
            }
            v |= part << shift;
            if ((byte & 0x80u) == 0) return v;
        }
    }

    /// What is left to read: no container can hold more elements than that.
    [[nodiscard]] std::size_t remaining() const { return _in.size() - _pos; }

private:
    std::string_view _in;
    std::size_t _pos = 0;
};

namespace compact_detail {
template <class T>
inline constexpr bool is_raw = std::is_floating_point_v<T> || sizeof(T) == 1;  // bool, char, 8-bit integers
}  // namespace compact_detail

template <class T>
    requires std::is_arithmetic_v<T>
inline void CEREAL_SAVE_FUNCTION_NAME(compact_output_archive& ar, const T& t) {
    if constexpr (compact_detail::is_raw<T>) {
        ar.save_bytes(std::addressof(t), sizeof(t));
    } else if constexpr (std::is_signed_v<T>) {
        ar.save_varint(compact::zigzag(static_cast<std::int64_t>(t)));
    } else {
        ar.save_varint(static_cast<std::uint64_t>(t));
    }
}

template <class T>
    requires std::is_arithmetic_v<T>
inline void CEREAL_LOAD_FUNCTION_NAME(compact_input_archive& ar, T& t) {
    if constexpr (compact_detail::is_raw<T>) {
        ar.load_bytes(std::addressof(t), sizeof(t));
        if constexpr (std::is_same_v<T, bool>) {
            if (*reinterpret_cast<const unsigned char*>(&t) > 1) {
                throw cereal::Exception("a boolean is neither 0 nor 1");
            }
        }
    } else if constexpr (std::is_signed_v<T>) {
        const std::uint64_t z = ar.load_varint(sizeof(T) * 8);
        const auto v = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
        t = static_cast<T>(v);
    } else {
        t = static_cast<T>(ar.load_varint(sizeof(T) * 8));
    }
}

template <class Archive, class T>
    requires(std::is_same_v<Archive, compact_output_archive> || std::is_same_v<Archive, compact_input_archive>)
inline void CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& t) {
    ar(t.value);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(compact_output_archive& ar, const cereal::SizeTag<T>& t) {
    ar.save_varint(static_cast<std::uint64_t>(t.size));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(compact_input_archive& ar, cereal::SizeTag<T>& t) {
    const std::uint64_t size = ar.load_varint(64);
    // Every element of every container here takes at least one byte.
    if (size > ar.remaining()) {
        throw cereal::Exception("a size of " + std::to_string(size) + " is more than the " +
                                std::to_string(ar.remaining()) + " bytes left");
    }
    t.size = static_cast<std::remove_reference_t<decltype(t.size)>>(size);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(compact_output_archive& ar, const cereal::BinaryData<T>& bd) {
    ar.save_bytes(bd.data, static_cast<std::size_t>(bd.size));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(compact_input_archive& ar, cereal::BinaryData<T>& bd) {
    ar.load_bytes(bd.data, static_cast<std::size_t>(bd.size));
}

}  // namespace ledger::projections

CEREAL_REGISTER_ARCHIVE(ledger::projections::compact_output_archive)
CEREAL_REGISTER_ARCHIVE(ledger::projections::compact_input_archive)
CEREAL_SETUP_ARCHIVE_TRAITS(ledger::projections::compact_input_archive, ledger::projections::compact_output_archive)
