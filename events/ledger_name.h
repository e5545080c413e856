#pragma once
// A ledger's name and the Kafka topics that belong to it (domain.md 2.2: one ledger, one topic).

#include <string>
#include <string_view>

#include "events/errc.h"
#include "events/error.h"

namespace ledger::events {

/// A validated ledger name: 1 to 200 characters of [A-Za-z0-9_-], so that every topic derived
/// from it is a legal Kafka topic name.
class ledger_name {
public:
    /// Fails with errc::invalid_ledger_name and a message naming the bad character or length.
    [[nodiscard]] static result<ledger_name> parse(std::string_view text);

    [[nodiscard]] const std::string& str() const noexcept { return _name; }
    /// The ledger's event topic: "ledger.<name>".
    [[nodiscard]] std::string topic() const { return "ledger." + _name; }
    /// Where signed checkpoints are published: "ledger.<name>.checkpoints".
    [[nodiscard]] std::string checkpoint_topic() const { return topic() + ".checkpoints"; }

private:
    explicit ledger_name(std::string n) : _name(std::move(n)) {}
    std::string _name;
};

}  // namespace ledger::events
