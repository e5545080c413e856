// Repeats of a log message held back: the first of a kind, then one a window, saying how many
// were held.

#include <catch2/catch.hpp>

#include "events/log_limit.h"

using ledger::events::repeat_limiter;
using namespace std::chrono_literals;

TEST_CASE("a repeated message is logged once a window, with how many were held back") {
    repeat_limiter limiter(60s);
    const auto t0 = repeat_limiter::clock::time_point{} + 1000s;
    std::size_t held = 99;
    struct step {
        std::chrono::seconds at;
        const char* key;
        bool admitted;
        std::size_t held;
    };
    const step steps[] = {
        {0s, "transport", true, 0},     // the first of its kind
        {1s, "transport", false, 1},    // repeats within the minute: held
        {2s, "transport", false, 2},
        {2s, "all brokers down", true, 0},  // another kind has its own count
        {59s, "transport", false, 3},
        {60s, "transport", true, 3},    // a minute on: logged, saying 3 were held
        {61s, "transport", false, 1},
        {200s, "transport", true, 1},
        {200s, "all brokers down", true, 0},
    };
    for (const auto& s : steps) {
        INFO(s.key << " at " << s.at.count() << " s");
        CHECK(limiter.admit(s.key, held, t0 + s.at) == s.admitted);
        CHECK(held == s.held);
    }
}
