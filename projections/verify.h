#pragma once
// Verification (domain.md 4): recomputes the chain from the records as Kafka holds them and
// compares it with the read models and the signed checkpoints; rebuilds the views from those
// records into a scratch directory and compares them with the live ones, so an edited read
// model is caught too. Every problem names an offset.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/hash.h"
#include "projections/projector.h"
#include "projections/store.h"

namespace ledger::projections {

struct verify_problem {
    std::int64_t offset = -1;
    std::string problem;
};

struct verify_report {
    std::int64_t verified_through_offset = -1;
    std::string chain_hash;  ///< hex, through verified_through_offset
    std::size_t checkpoints_checked = 0;     ///< offsets whose checkpoint(s) were checked
    std::size_t checkpoints_published = 0;   ///< records on the checkpoint topic for this ledger
    std::string key;                         ///< base64: the key checkpoints were checked against
    std::string key_source;                  ///< where that key came from
    std::vector<std::string> warnings;       ///< what weakens a clean answer (nothing signed, a key trusted on first use)
    /// Where the token names each record's `producer` was checked against ("" not checked).
    std::string producers_checked_against;
    std::vector<verify_problem> problems;

    [[nodiscard]] nlohmann::json to_json() const;
};

/// Checks published checkpoints against the chain hashes a data directory holds (a replay, which
/// signs none, checks those its log covers): each one up to the directory's head must be signed
/// by `key` and match the chain there. Returns the problems; `checked` counts the offsets checked.
[[nodiscard]] std::vector<verify_problem> check_published(store& s, const std::vector<checkpoint_row>& published,
                                                          const std::string& key, std::size_t& checked);

class verifier {
public:
    /// `scratch`: an empty directory for the rebuild (removed by the caller).
    verifier(store& live, std::filesystem::path scratch);
    ~verifier();

    /// The checkpoints as published on the checkpoint topic, in the order published: checked like
    /// the copies in the read models, and they must agree with the log and be in the read models of
    /// the directory that signed them. Call before feed().
    void use_published(std::vector<checkpoint_row> published);
    /// The key every checkpoint must be signed with and where it came from (--key, the signing
    /// directory's own key). Without one, the first published checkpoint's key is trusted, and
    /// the report says so.
    void pin_key(std::string public_key, std::string source);

    /// The names of the tokens the gateway accepts, and where they came from (a tokens file): a
    /// record whose `producer` names none of them was not written by the gateway for a token (it was
    /// written around it, or by a token since removed). One problem per such producer, naming its
    /// first offset and how many records it wrote. Call before feed().
    void check_producers(std::set<std::string> names, std::string source);
    /// The next record as Kafka holds it, in offset order, with the broker's timestamp (0:
    /// unknown), which the rebuild needs as the projector had it.
    void feed(std::int64_t offset, std::string_view bytes, std::int64_t timestamp_ms = 0);
    /// Re-reads the live read models' head (a running projector moves it); returns its next offset.
    std::int64_t refresh_head();
    /// Checks what remains (dropped tails, checkpoints, the rebuilt views) and reports.
    /// `log_end`: the offset after Kafka's last record, when known (a published checkpoint past it
    /// contradicts the log; one between the read models' head and it is only not verified here).
    [[nodiscard]] verify_report finish(std::optional<std::int64_t> log_end = std::nullopt);

private:
    void problem(std::int64_t offset, std::string text);
    void check_checkpoint(std::int64_t offset, const checkpoint_row& cp, const char* where);
    void resolve_key();
    void read_checkpoint_rows(std::int64_t from);
    void flush_rebuild();

    store& _live;
    head _live_head;
    std::unique_ptr<store> _scratch;
    std::unique_ptr<projector> _rebuild;
    std::vector<raw_record> _pending;
    std::int64_t _next = 0;
    events::sha256_digest _chain = events::genesis();
    std::map<std::int64_t, checkpoint_row> _checkpoints;
    std::set<std::string> _undecodable_checkpoints;  ///< keys reported once
    std::vector<checkpoint_row> _published;               ///< in the order published
    std::multimap<std::int64_t, std::size_t> _published_at;  ///< offset -> index in _published
    std::string _key;
    std::string _key_source;
    std::vector<std::string> _warnings;
    std::size_t _checked = 0;
    std::vector<verify_problem> _problems;
    bool _rebuild_failed = false;
    struct producer_seen {
        std::int64_t first = -1, last = -1;
        std::size_t records = 0;
    };
    std::optional<std::set<std::string>> _producers;  ///< the token names, when checked
    std::string _producers_source;
    std::map<std::string, producer_seen> _unknown_producers;
};

}  // namespace ledger::projections
