# Every third-party library comes from a Debian 12 package (ops/install installs them).
# Nothing is vendored and nothing is downloaded at build time.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(rdkafka REQUIRED IMPORTED_TARGET rdkafka++>=2.0 rdkafka>=2.0)
pkg_check_modules(lmdb REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(sodium REQUIRED IMPORTED_TARGET libsodium)
find_package(cereal REQUIRED)
find_package(Boost 1.74 REQUIRED)          # Asio, Beast, Outcome: header-only
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(date REQUIRED)                # Howard Hinnant's date/tz on the system tzdata
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(simdjson 3 REQUIRED)          # the projector's JSON parse (nlohmann-json stays the reference)
if(LEDGER_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
