# Warnings every ledger target builds with; third-party headers come in as system headers.
# Not -Wnull-dereference: at -O2 GCC 12 reports it inside inlined Boost.Asio code (false positives).
add_library(ledger_warnings INTERFACE)
target_compile_options(ledger_warnings INTERFACE
  -Wall -Wextra -Wpedantic
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(LEDGER_WERROR)
  target_compile_options(ledger_warnings INTERFACE -Werror)
endif()
