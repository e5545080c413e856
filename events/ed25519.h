#pragma once
// Ed25519 (RFC 8032) through libsodium, and the base64 that carries keys and signatures in JSON.

#include <optional>
#include <string>
#include <string_view>

namespace ledger::events {

/// Decodes standard base64 (RFC 4648, with or without padding); nullopt if malformed.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);
[[nodiscard]] std::string base64_encode(std::string_view bytes);

/// True when `signature` (64 bytes) is a valid Ed25519 signature of `message` by `public_key`
/// (32 bytes). Wrong sizes verify false.
[[nodiscard]] bool ed25519_verify(std::string_view public_key, std::string_view message, std::string_view signature);

/// A key pair (for the ledger's checkpoints and for tests): 32-byte public key, 64-byte secret.
struct ed25519_keypair {
    std::string public_key;
    std::string secret_key;
};
[[nodiscard]] ed25519_keypair ed25519_generate();
/// Detached signature (64 bytes) of `message` with a 64-byte libsodium secret key.
[[nodiscard]] std::string ed25519_sign(std::string_view secret_key, std::string_view message);

}  // namespace ledger::events
