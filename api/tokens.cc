#include "api/tokens.h"

#include <algorithm>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <toml++/toml.h>

#include "events/hash.h"

namespace ledger::api {
namespace {

enum class errc { bad_tokens_file = 1 };

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.tokens"; }
    std::string message(int) const override { return "bad tokens file"; }
};
const std::error_category& tokens_category() {
    static const category c;
    return c;
}

auto bad(std::string field, std::string message) {
    return failure(std::error_code(static_cast<int>(errc::bad_tokens_file), tokens_category()), std::move(message),
                   std::move(field));
}

bool valid_scope(const std::string& s) {
    if (s == "read" || s == "admin") return true;
    return s.starts_with("produce:") && s.size() > 8;
}

}  // namespace

bool token::is_admin() const { return std::find(scopes.begin(), scopes.end(), "admin") != scopes.end(); }
bool token::can_read() const { return is_admin() || std::find(scopes.begin(), scopes.end(), "read") != scopes.end(); }
bool token::can_produce_any() const {
    return is_admin() || std::any_of(scopes.begin(), scopes.end(), [](const auto& s) { return s.starts_with("produce:"); });
}
bool token::can_produce(std::string_view system) const {
    if (is_admin()) return true;
    return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) {
        return s == "produce:*" || (s.starts_with("produce:") && std::string_view(s).substr(8) == system);
    });
}

result<token_store> token_store::load(const std::filesystem::path& file) {
    toml::table doc;
    try {
        doc = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        return bad("tokens", fmt::format("Cannot read the tokens file {}: {} (line {}).", file.string(),
                                         e.description(), e.source().begin.line));
    }
    std::vector<token> tokens;
    const auto* entries = doc["token"].as_array();
    if (entries == nullptr) {
        return bad("token", fmt::format("The tokens file {} has no [[token]] entries.", file.string()));
    }
    std::size_t i = 0;
    for (const auto& node : *entries) {
        ++i;
        const auto where = fmt::format("token[{}]", i);
        const auto* t = node.as_table();
        if (t == nullptr) return bad(where, fmt::format("{} in {} is not a table.", where, file.string()));
        for (const auto& [key, value] : *t) {
            if (key != "name" && key != "sha256" && key != "scopes") {
                return bad(where + "." + std::string(key.str()),
                           fmt::format("{}.{} is not a token field (name, sha256, scopes).", where, key.str()));
            }
        }
        token tok;
        const auto name = (*t)["name"].value<std::string>();
        if (!name || name->empty()) return bad(where + ".name", fmt::format("{}.name must be a non-empty string.", where));
        tok.name = *name;
        const auto hash = (*t)["sha256"].value<std::string>();
        events::sha256_digest digest{};
        if (!hash || !events::from_hex(*hash, digest)) {
            return bad(where + ".sha256", fmt::format("{}.sha256 must be 64 hex digits (SHA-256 of the secret).", where));
        }
        tok.sha256 = digest;
        const auto* scopes = (*t)["scopes"].as_array();
        if (scopes == nullptr || scopes->empty()) {
            return bad(where + ".scopes", fmt::format("{}.scopes must list at least one scope.", where));
        }
        for (const auto& s : *scopes) {
            const auto scope = s.value<std::string>();
            if (!scope || !valid_scope(*scope)) {
                return bad(where + ".scopes",
                           fmt::format("{}.scopes has '{}'; scopes are produce:<system>, produce:*, read and admin.",
                                       where, scope.value_or("?")));
            }
            tok.scopes.push_back(*scope);
        }
        if (std::any_of(tokens.begin(), tokens.end(), [&](const token& o) { return o.name == tok.name; })) {
            return bad(where + ".name", fmt::format("{}.name '{}' is used twice.", where, tok.name));
        }
        tokens.push_back(std::move(tok));
    }
    return token_store(std::move(tokens));
}

const token* token_store::authenticate(std::string_view secret) const {
    if (secret.empty()) return nullptr;
    const auto digest = events::sha256(secret);
    const token* found = nullptr;
    for (const auto& t : _tokens) {
        // CRYPTO_memcmp takes the same time whatever the bytes; every token is compared.
        if (CRYPTO_memcmp(t.sha256.data(), digest.data(), digest.size()) == 0) {
            found = &t;
        }
    }
    return found;
}

const token* token_store::authenticate_header(std::string_view authorization) const {
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size()) return nullptr;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i]))) {
            return nullptr;
        }
    }
    auto secret = authorization.substr(scheme.size());
    while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
    return authenticate(secret);
}

}  // namespace ledger::api
