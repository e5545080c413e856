#include "events/ed25519.h"

#include <sodium.h>

#include <stdexcept>

namespace ledger::events {
namespace {
void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) {
        throw std::runtime_error("sodium_init failed");
    }
}
}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
    ensure_sodium();
    std::string out(text.size(), '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size()) {
        if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                              nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
            end != text.data() + text.size()) {
            return std::nullopt;
        }
    }
    out.resize(len);
    return out;
}

std::string base64_encode(std::string_view bytes) {
    ensure_sodium();
    std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

bool ed25519_verify(std::string_view public_key, std::string_view message, std::string_view signature) {
    ensure_sodium();
    if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
        return false;
    }
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                       reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

ed25519_keypair ed25519_generate() {
    ensure_sodium();
    ed25519_keypair kp{std::string(crypto_sign_PUBLICKEYBYTES, '\0'), std::string(crypto_sign_SECRETKEYBYTES, '\0')};
    crypto_sign_keypair(reinterpret_cast<unsigned char*>(kp.public_key.data()),
                        reinterpret_cast<unsigned char*>(kp.secret_key.data()));
    return kp;
}

std::string ed25519_sign(std::string_view secret_key, std::string_view message) {
    ensure_sodium();
    if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
        throw std::invalid_argument("ed25519_sign: the secret key must be 64 bytes");
    }
    std::string sig(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         reinterpret_cast<const unsigned char*>(secret_key.data()));
    return sig;
}

}  // namespace ledger::events
