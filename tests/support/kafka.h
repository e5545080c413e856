#pragma once
// Helpers for tests that talk to the real broker started by ./ops/test.

#include <string>

namespace ledger::testing {

/// The broker address from LEDGER_TEST_BROKERS. Fails the test (never skips) when unset.
std::string test_brokers();

/// A topic name no other test run uses: "<prefix>-<random hex>".
std::string unique_name(const std::string& prefix);

}  // namespace ledger::testing
