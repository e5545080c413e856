#pragma once
// Signed checkpoints as they are published on the checkpoint topic (ledger.<name>.checkpoints)
// and the public keys they are verified against: the published copy is what verification trusts,
// not the rows in LMDB, which whoever can write the data directory can edit.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "events/error.h"
#include "projections/model.h"

namespace ledger::projections {

/// The Kafka record of a checkpoint: canonical JSON {"chain_hash","ledger","offset","public_key",
/// "signature","signed_at"} (hex hash, base64 key and signature), checkable with the public key.
[[nodiscard]] std::string checkpoint_record(const std::string& topic, const checkpoint_row& cp);

/// A checkpoint record read back, with the ledger topic it names.
struct published_checkpoint {
    std::string ledger;
    checkpoint_row row;
};
/// Parses a checkpoint record; fails naming the field that is missing or malformed.
[[nodiscard]] result<published_checkpoint> parse_checkpoint_record(std::string_view bytes);

/// A public key file: its first line is the base64 Ed25519 public key (what `ledger key` prints;
/// a data directory's ledger.key also starts so). Fails naming `field`.
[[nodiscard]] result<std::string> load_public_key(const std::filesystem::path& file, const std::string& field = "key");

}  // namespace ledger::projections
