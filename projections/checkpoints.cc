#include "projections/checkpoints.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "events/hash.h"
#include "projections/store.h"

namespace ledger::projections {

std::string checkpoint_record(const std::string& topic, const checkpoint_row& cp) {
    return events::canonicalize(nlohmann::json{{"ledger", topic},
                                               {"offset", cp.offset},
                                               {"chain_hash", events::to_hex(cp.chain_hash)},
                                               {"public_key", events::base64_encode(cp.public_key)},
                                               {"signature", events::base64_encode(cp.signature)},
                                               {"signed_at", cp.signed_at}});
}

result<published_checkpoint> parse_checkpoint_record(std::string_view bytes) {
    const auto j = nlohmann::json::parse(bytes, nullptr, false);
    auto bad = [](const char* field, const char* what) {
        return failure(errc::format_mismatch, fmt::format("the checkpoint record's {} {}", field, what), field);
    };
    if (!j.is_object()) return bad("record", "is not a JSON object");
    published_checkpoint out;
    auto text = [&](const char* field) -> std::optional<std::string> {
        const auto it = j.find(field);
        if (it == j.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    const auto ledger = text("ledger");
    if (!ledger) return bad("ledger", "is missing");
    out.ledger = *ledger;
    const auto offset = j.find("offset");
    if (offset == j.end() || !offset->is_number_integer() || offset->get<std::int64_t>() < 0) {
        return bad("offset", "is not an offset");
    }
    out.row.offset = offset->get<std::int64_t>();
    const auto chain = text("chain_hash");
    events::sha256_digest digest{};
    if (!chain || !events::from_hex(*chain, digest)) return bad("chain_hash", "is not 64 hex digits");
    out.row.chain_hash = events::as_bytes(digest);
    const auto key = text("public_key");
    const auto key_bytes = key ? events::base64_decode(*key) : std::nullopt;
    if (!key_bytes || key_bytes->size() != 32) return bad("public_key", "is not a base64 Ed25519 public key");
    out.row.public_key = *key_bytes;
    const auto sig = text("signature");
    const auto sig_bytes = sig ? events::base64_decode(*sig) : std::nullopt;
    if (!sig_bytes || sig_bytes->size() != 64) return bad("signature", "is not a base64 Ed25519 signature");
    out.row.signature = *sig_bytes;
    out.row.signed_at = text("signed_at").value_or("");
    return out;
}

result<std::string> load_public_key(const std::filesystem::path& file, const std::string& field) {
    std::ifstream in(file);
    if (!in) return failure(errc::not_found, fmt::format("cannot read the key file {}", file.string()), field);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    const auto key = events::base64_decode(line);
    if (!key || key->size() != 32) {
        return failure(errc::format_mismatch,
                       fmt::format("{} does not start with a base64 Ed25519 public key (what `ledger key` prints)",
                                   file.string()),
                       field);
    }
    return *key;
}

}  // namespace ledger::projections
