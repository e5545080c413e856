#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "api/tokens.h"
#include "events/hash.h"

using namespace ledger::api;

namespace {

std::filesystem::path write_file(const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / ("tokens-" + std::to_string(std::random_device{}()) + ".toml");
    std::ofstream(p) << text;
    return p;
}

std::string hash_of(const std::string& secret) { return ledger::events::to_hex(ledger::events::sha256(secret)); }

}  // namespace

TEST_CASE("tokens authenticate by the SHA-256 of their secret and carry scopes") {
    const auto file = write_file("[[token]]\nname = \"agresso-ci\"\nsha256 = \"" + hash_of("s3cret") +
                                 "\"\nscopes = [\"produce:AGRESSO\", \"read\"]\n"
                                 "[[token]]\nname = \"ops\"\nsha256 = \"" + hash_of("other") +
                                 "\"\nscopes = [\"admin\"]\n");
    auto store = token_store::load(file);
    std::filesystem::remove(file);
    REQUIRE(store);
    CHECK(store.value().size() == 2);
    const token* t = store.value().authenticate_header("Bearer s3cret");
    REQUIRE(t != nullptr);
    CHECK(t->name == "agresso-ci");
    CHECK(t->can_produce("AGRESSO"));
    CHECK_FALSE(t->can_produce("ALTINN"));
    CHECK(t->can_read());
    CHECK_FALSE(t->is_admin());
    CHECK(store.value().authenticate_header("bearer other")->is_admin());
    CHECK(store.value().authenticate_header("Bearer other")->can_produce("ANY"));
    CHECK(store.value().authenticate_header("Bearer wrong") == nullptr);
    CHECK(store.value().authenticate_header("Basic s3cret") == nullptr);
    CHECK(store.value().authenticate_header("") == nullptr);
    CHECK(store.value().authenticate("") == nullptr);
}

TEST_CASE("produce:* may post for every system, read alone for none") {
    token all{"all", {}, {"produce:*"}};
    CHECK(all.can_produce("X"));
    CHECK_FALSE(all.can_read());
    token reader{"r", {}, {"read"}};
    CHECK_FALSE(reader.can_produce_any());
    CHECK(reader.can_read());
}

TEST_CASE("a bad tokens file is refused, naming the entry and field") {
    struct row {
        std::string text;
        std::string field;
    };
    const std::string h = hash_of("x");
    const auto r = GENERATE_COPY(
        row{"[[token]]\nsha256 = \"" + h + "\"\nscopes = [\"read\"]\n", "token[1].name"},
        row{"[[token]]\nname = \"a\"\nsha256 = \"abc\"\nscopes = [\"read\"]\n", "token[1].sha256"},
        row{"[[token]]\nname = \"a\"\nsha256 = \"" + h + "\"\nscopes = []\n", "token[1].scopes"},
        row{"[[token]]\nname = \"a\"\nsha256 = \"" + h + "\"\nscopes = [\"write\"]\n", "token[1].scopes"},
        row{"[[token]]\nname = \"a\"\nsha256 = \"" + h + "\"\nscopes = [\"read\"]\nsecret = \"x\"\n", "token[1].secret"},
        row{"[[token]]\nname = \"a\"\nsha256 = \"" + h + "\"\nscopes = [\"read\"]\n[[token]]\nname = \"a\"\nsha256 = \"" +
                h + "\"\nscopes = [\"read\"]\n",
            "token[2].name"},
        row{"name = \"a\"\n", "token"}, row{"[[token]\n", "tokens"});
    const auto file = write_file(r.text);
    auto store = token_store::load(file);
    std::filesystem::remove(file);
    REQUIRE_FALSE(store);
    CHECK(store.error().field == r.field);
}
