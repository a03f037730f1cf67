# Warnings for Shoal's own targets. Third-party headers come from system include dirs, which GCC
# does not warn about, so zero warnings is a property of our code alone.
set(SHOAL_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow=local -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
# GCC 12 reports impossible -Wrestrict overlaps inside libstdc++'s std::string at -O3
# (GCC bug 105329); it is noise from the standard library, not from our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND SHOAL_WARNING_FLAGS -Wno-restrict)
endif()
if(SHOAL_WERROR)
  list(APPEND SHOAL_WARNING_FLAGS -Werror)
endif()

function(shoal_set_warnings target)
  target_compile_options(${target} PRIVATE ${SHOAL_WARNING_FLAGS})
endfunction()
