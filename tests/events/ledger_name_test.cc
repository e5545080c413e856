#include <catch2/catch.hpp>

#include "events/ledger_name.h"

using ledger::events::errc;
using ledger::events::ledger_name;

TEST_CASE("a valid ledger name gives its topics") {
    auto name = ledger_name::parse("oslo-kommune_2");
    REQUIRE(name);
    CHECK(name.value().topic() == "ledger.oslo-kommune_2");
    CHECK(name.value().checkpoint_topic() == "ledger.oslo-kommune_2.checkpoints");
}

TEST_CASE("invalid ledger names are refused with a reason naming the field") {
    struct row {
        std::string text;
        std::string says;
    };
    const auto bad = GENERATE(row{"", "empty"}, row{"a.b", "'.'"}, row{"a b", "' '"}, row{"ø", "contains"},
                              row{std::string(201, 'a'), "201 characters"});
    auto name = ledger_name::parse(bad.text);
    REQUIRE_FALSE(name);
    CHECK(name.error().code == errc::invalid_ledger_name);
    CHECK(name.error().field == "ledger");
    CHECK_THAT(name.error().message, Catch::Contains(bad.says));
}
