# ASan + UBSan for the whole build when SHOAL_SANITIZE is on. Used by `make test-sanitize`, which
# builds only the tests labelled `sanitize` (runtime, log, replication, the fuzz targets).
#
# With clang the same build also carries libFuzzer's coverage instrumentation
# (-fsanitize=fuzzer-no-link: edge counters and comparison hooks, no fuzzer runtime), so the
# fuzz targets in tests/fuzz link against the very objects the sanitizer tests use and no third
# build tree is needed. Outside a fuzzer the hooks are the sanitizer runtime's no-op defaults.
# -DSHOAL_FUZZ=OFF leaves the instrumentation and the fuzz targets out.
option(SHOAL_FUZZ "With SHOAL_SANITIZE and clang: build the libFuzzer targets (tests/fuzz)" ON)
if(SHOAL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(SHOAL_SANITIZED=1)
endif()
if(SHOAL_SANITIZE AND SHOAL_FUZZ AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link)
else()
  set(SHOAL_FUZZ OFF)
endif()
