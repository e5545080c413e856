# Warnings every ledger target builds with; third-party headers come in as system headers.
add_library(ledger_warnings INTERFACE)
target_compile_options(ledger_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wnull-dereference)
