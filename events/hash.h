#pragma once
// SHA-256 content and chain hashes (domain.md section 4).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ledger::events {

using sha256_digest = std::array<std::uint8_t, 32>;

[[nodiscard]] sha256_digest sha256(std::string_view bytes);
/// Lowercase hex of any bytes.
[[nodiscard]] std::string to_hex(const std::uint8_t* data, std::size_t size);
[[nodiscard]] inline std::string to_hex(const sha256_digest& d) { return to_hex(d.data(), d.size()); }
/// Lowercase hex of raw bytes held in a string (a stored hash, a key).
[[nodiscard]] inline std::string to_hex(std::string_view bytes) {
    return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}
/// A digest's 32 bytes, viewed as characters (valid while `d` lives).
[[nodiscard]] inline std::string_view bytes_view(const sha256_digest& d) {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}
/// A digest's 32 bytes as a string, as the read models store it.
[[nodiscard]] inline std::string as_bytes(const sha256_digest& d) { return std::string(bytes_view(d)); }
/// Parses 64 hex digits (either case); false if malformed.
[[nodiscard]] bool from_hex(std::string_view hex, sha256_digest& out);

/// The chain hash of the event at `offset`: SHA-256(previous ‖ content ‖ offset as 8 bytes
/// big endian). The chain starts from 32 zero bytes (genesis()).
[[nodiscard]] sha256_digest chain_hash(const sha256_digest& previous, const sha256_digest& content,
                                       std::int64_t offset);
[[nodiscard]] constexpr sha256_digest genesis() { return {}; }

}  // namespace ledger::events
