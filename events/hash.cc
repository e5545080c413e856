#include "events/hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace ledger::events {
namespace {

// OpenSSL 3 looks the algorithm up on every EVP_sha256() digest; fetched once here, and each
// thread keeps one context, a digest costs the hashing alone.
const EVP_MD* sha256_md() {
    static const EVP_MD* md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        if (fetched == nullptr) throw std::runtime_error("EVP_MD_fetch(SHA256) failed");
        return fetched;
    }();
    return md;
}

struct ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

}  // namespace

sha256_digest sha256(std::string_view bytes) {
    thread_local const std::unique_ptr<EVP_MD_CTX, ctx_free> ctx(EVP_MD_CTX_new());
    sha256_digest out{};
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
        throw std::runtime_error("SHA-256 failed");
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
    std::array<char, 72> input{};
    std::copy(previous.begin(), previous.end(), input.begin());
    std::copy(content.begin(), content.end(), input.begin() + 32);
    const auto u = static_cast<std::uint64_t>(offset);
    for (int i = 0; i < 8; ++i) {
        input[static_cast<std::size_t>(64 + i)] = static_cast<char>((u >> (56 - 8 * i)) & 0xff);
    }
    return sha256(std::string_view(input.data(), input.size()));
}

}  // namespace ledger::events
