#include "index/distance/dispatch.h"

#include <cstdlib>

#include "engine/common/assert.h"
#include "engine/common/logger.h"
#include "index/distance/simd_level.h"

namespace shoal::index::distance {
namespace {

#if defined(__x86_64__)
const kernel_table& avx512_with_extensions() {
  static const kernel_table table = [] {
    kernel_table t = avx512_kernels();
    if (cpu_has_avx512_vnni()) patch_avx512_vnni(t);
    return t;
  }();
  return table;
}
#endif

const kernel_table& choose() {
  simd_level level = active_level();
  const char* forced = std::getenv("SHOAL_SIMD");
  const kernel_table& table = kernels_for(level);
  auto& log = logging::get("index");
  if (forced != nullptr && *forced != '\0' && !parse_level(forced)) {
    log.warn("SHOAL_SIMD={} is not one of scalar|avx2|avx512; ignored", forced);
  } else if (forced != nullptr && *forced != '\0' && level_name(level) != forced) {
    log.warn("SHOAL_SIMD={} is not supported by this CPU; using {}", forced, level_name(level));
  }
  log.info("distance kernels: {} (cpu best: {})", table.isa, level_name(detected_level()));
  return table;
}

}  // namespace

const kernel_table& kernels_for(simd_level level) {
  SHOAL_ASSERT(cpu_supports(level), "SIMD level {} is not supported by this CPU",
               level_name(level));
#if defined(__x86_64__)
  switch (level) {
    case simd_level::scalar:
      return scalar_kernels();
    case simd_level::avx2:
      return avx2_kernels();
    case simd_level::avx512:
      return avx512_with_extensions();
  }
#endif
  return scalar_kernels();
}

const kernel_table& kernels() {
  static const kernel_table& table = choose();
  return table;
}

std::string_view isa_name() {
  return kernels().isa;
}

}  // namespace shoal::index::distance
