# Every external library, each from a Debian package (tools/deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 REQUIRED CONFIG COMPONENTS program_options)
find_package(simdjson REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
# Abseil for its B-tree map: a shard's ordered id -> slot map at a third of std::map's memory.
find_package(absl REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)

# The single-threaded OpenBLAS build: a BLAS call must never start threads of its own on a core
# that already runs a reactor (PRACTICES P5). Debian ships it beside the pthread/OpenMP variants.
find_library(OPENBLAS_SERIAL_LIB openblas PATHS /usr/lib/x86_64-linux-gnu/openblas-serial
  /usr/lib/aarch64-linux-gnu/openblas-serial NO_DEFAULT_PATH REQUIRED)
find_path(OPENBLAS_SERIAL_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-serial
  /usr/include/aarch64-linux-gnu/openblas-serial NO_DEFAULT_PATH REQUIRED)
add_library(shoal_openblas INTERFACE)
target_link_libraries(shoal_openblas INTERFACE ${OPENBLAS_SERIAL_LIB})
target_include_directories(shoal_openblas SYSTEM INTERFACE ${OPENBLAS_SERIAL_INCLUDE})

if(SHOAL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SHOAL_BUILD_PERF)
  find_package(benchmark REQUIRED)
endif()
