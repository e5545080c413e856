#pragma once
// Verification (domain.md 4): recomputes the chain from the records as Kafka holds them and
// compares it with the read models and the signed checkpoints; rebuilds the views from those
// records into a scratch directory and compares them with the live ones, so an edited read
// model is caught too. Every problem names an offset.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
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
    std::size_t checkpoints_checked = 0;
    std::vector<verify_problem> problems;

    [[nodiscard]] nlohmann::json to_json() const;
};

class verifier {
public:
    /// `scratch`: an empty directory for the rebuild (removed by the caller).
    verifier(store& live, std::filesystem::path scratch);
    ~verifier();

    /// The next record as Kafka holds it, in offset order.
    void feed(std::int64_t offset, std::string_view bytes);
    /// Re-reads the live read models' head (a running projector moves it); returns its next offset.
    std::int64_t refresh_head();
    /// Checks what remains (dropped tails, checkpoints, the rebuilt views) and reports.
    [[nodiscard]] verify_report finish();

private:
    void problem(std::int64_t offset, std::string text);
    void flush_rebuild();

    store& _live;
    head _live_head;
    std::unique_ptr<store> _scratch;
    std::unique_ptr<projector> _rebuild;
    std::vector<raw_record> _pending;
    std::int64_t _next = 0;
    events::sha256_digest _chain = events::genesis();
    std::map<std::int64_t, checkpoint_row> _checkpoints;
    std::size_t _checked = 0;
    std::vector<verify_problem> _problems;
    bool _rebuild_failed = false;
};

}  // namespace ledger::projections
