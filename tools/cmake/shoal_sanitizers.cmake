# ASan + UBSan for the whole build when SHOAL_SANITIZE is on. Used by `make test-sanitize`, which
# builds only the tests labelled `sanitize` (runtime, log, replication).
if(SHOAL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(SHOAL_SANITIZED=1)
endif()
