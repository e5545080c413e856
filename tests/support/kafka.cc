#include "tests/support/kafka.h"

#include <cstdlib>
#include <random>

#include <catch2/catch.hpp>
#include <fmt/format.h>

namespace ledger::testing {

std::string test_brokers() {
    const char* brokers = std::getenv("LEDGER_TEST_BROKERS");
    if (brokers == nullptr || *brokers == '\0') {
        FAIL("LEDGER_TEST_BROKERS is not set: run the suite through ./ops/test, which starts a broker");
    }
    return brokers;
}

std::string unique_name(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}-{:016x}", prefix, rng());
}

}  // namespace ledger::testing
