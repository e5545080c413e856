# ASan + UBSan for the `dev` preset (LEDGER_SANITIZE=ON): every ledger target links this.
add_library(ledger_sanitizers INTERFACE)
if(LEDGER_SANITIZE)
  set(_ledger_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(ledger_sanitizers INTERFACE ${_ledger_san})
  target_link_options(ledger_sanitizers INTERFACE ${_ledger_san})
endif()

# The fuzz preset instruments every ledger library for libFuzzer's coverage feedback.
if(LEDGER_FUZZ)
  target_compile_options(ledger_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
