# Warnings for Shoal's own targets. Third-party headers come from system include dirs, which the
# compiler does not warn about, so zero warnings is a property of our code alone.
set(SHOAL_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND SHOAL_WARNING_FLAGS -Wshadow-uncaptured-local -Wunreachable-code)
else()
  list(APPEND SHOAL_WARNING_FLAGS -Wshadow=local)
endif()
if(SHOAL_WERROR)
  list(APPEND SHOAL_WARNING_FLAGS -Werror)
endif()

function(shoal_set_warnings target)
  target_compile_options(${target} PRIVATE ${SHOAL_WARNING_FLAGS})
endfunction()
