#pragma once
// Bearer tokens (interface.md): tokens.toml holds name, sha256 (hex of the secret) and scopes.
// The secret itself is never stored.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "events/error.h"

namespace ledger::api {

struct token {
    std::string name;                       ///< recorded as `producer` on the events it posts
    std::array<std::uint8_t, 32> sha256{};  ///< of the secret's UTF-8 bytes
    std::vector<std::string> scopes;        ///< produce:<system>, produce:*, read, admin

    [[nodiscard]] bool is_admin() const;
    [[nodiscard]] bool can_read() const;
    /// May post events at all (some produce scope, or admin).
    [[nodiscard]] bool can_produce_any() const;
    /// May post events for `system`.
    [[nodiscard]] bool can_produce(std::string_view system) const;
};

class token_store {
public:
    token_store() = default;
    explicit token_store(std::vector<token> tokens) : _tokens(std::move(tokens)) {}

    /// Reads a tokens file. Errors name the entry and field, e.g. "token[2].sha256".
    [[nodiscard]] static result<token_store> load(const std::filesystem::path& file);

    /// The token whose hash matches SHA-256(secret). Compares against every token in constant
    /// time per token, so timing tells nothing about which bytes matched.
    [[nodiscard]] const token* authenticate(std::string_view secret) const;
    /// Parses "Bearer <secret>" and authenticates it.
    [[nodiscard]] const token* authenticate_header(std::string_view authorization) const;

    [[nodiscard]] std::size_t size() const noexcept { return _tokens.size(); }
    /// The tokens' names: what the gateway records as `producer`.
    [[nodiscard]] std::set<std::string> names() const {
        std::set<std::string> out;
        for (const auto& t : _tokens) out.insert(t.name);
        return out;
    }

private:
    std::vector<token> _tokens;
};

}  // namespace ledger::api
