#include "events/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace ledger::events {

sha256_digest sha256(std::string_view bytes) {
    sha256_digest out{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
        throw std::runtime_error("EVP_Digest(sha256) failed");
    }
    return out;
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xf];
    }
    return out;
}

bool from_hex(std::string_view hex, sha256_digest& out) {
    if (hex.size() != 64) return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

sha256_digest chain_hash(const sha256_digest& previous, const sha256_digest& content, std::int64_t offset) {
    std::string input;
    input.reserve(72);
    input.append(reinterpret_cast<const char*>(previous.data()), previous.size());
    input.append(reinterpret_cast<const char*>(content.data()), content.size());
    const auto u = static_cast<std::uint64_t>(offset);
    for (int shift = 56; shift >= 0; shift -= 8) {
        input.push_back(static_cast<char>((u >> shift) & 0xff));
    }
    return sha256(input);
}

}  // namespace ledger::events
