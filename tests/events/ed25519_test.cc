// Ed25519 through libsodium against RFC 8032 section 7.1, and the hash chain of domain.md 4.

#include <catch2/catch.hpp>

#include "events/ed25519.h"
#include "events/hash.h"

using namespace ledger::events;

namespace {
std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}
}  // namespace

TEST_CASE("RFC 8032 7.1 test vectors verify, and any change breaks them") {
    struct row {
        const char* public_key;
        const char* message;
        const char* signature;
    };
    const auto r = GENERATE(
        row{"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        row{"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        row{"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"});
    const auto pk = unhex(r.public_key);
    const auto msg = unhex(r.message);
    const auto sig = unhex(r.signature);
    CHECK(ed25519_verify(pk, msg, sig));
    CHECK_FALSE(ed25519_verify(pk, msg + "x", sig));
    auto tampered = sig;
    tampered[10] = static_cast<char>(tampered[10] ^ 1);
    CHECK_FALSE(ed25519_verify(pk, msg, tampered));
    CHECK_FALSE(ed25519_verify(pk.substr(1), msg, sig));  // wrong size
}

TEST_CASE("base64 of keys and signatures") {
    const auto pk = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    CHECK(base64_encode(pk) == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    CHECK(base64_decode("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=") == pk);
    CHECK(base64_decode("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo") == pk);  // unpadded
    CHECK_FALSE(base64_decode("not base64!").has_value());
}

TEST_CASE("a generated key signs and verifies") {
    const auto kp = ed25519_generate();
    const auto sig = ed25519_sign(kp.secret_key, "checkpoint 1000");
    CHECK(ed25519_verify(kp.public_key, "checkpoint 1000", sig));
    CHECK_FALSE(ed25519_verify(kp.public_key, "checkpoint 1001", sig));
}

TEST_CASE("SHA-256 and the chain hash of domain.md 4") {
    CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // chain(offset 0) = SHA-256(32 zero bytes ‖ content ‖ 00 00 00 00 00 00 00 00)
    const auto content = sha256("abc");
    std::string input(32, '\0');
    input.append(reinterpret_cast<const char*>(content.data()), content.size());
    input.append(8, '\0');
    CHECK(chain_hash(genesis(), content, 0) == sha256(input));
    // offset 258 is 00 .. 01 02 big endian
    const auto first = chain_hash(genesis(), content, 0);
    std::string input2(reinterpret_cast<const char*>(first.data()), first.size());
    input2.append(reinterpret_cast<const char*>(content.data()), content.size());
    input2.append(std::string("\0\0\0\0\0\0\x01\x02", 8));
    CHECK(chain_hash(first, content, 258) == sha256(input2));
    sha256_digest back{};
    REQUIRE(from_hex(to_hex(first), back));
    CHECK(back == first);
    CHECK_FALSE(from_hex("zz", back));
}
