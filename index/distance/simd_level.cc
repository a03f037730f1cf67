#include "index/distance/simd_level.h"

#include <cstdlib>

namespace shoal::index::distance {

bool cpu_supports(simd_level level) {
  switch (level) {
    case simd_level::scalar:
      return true;
    case simd_level::avx2:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    case simd_level::avx512:
#if defined(__x86_64__)
      return cpu_supports(simd_level::avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq");
#else
      return false;
#endif
  }
  return false;
}

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__)
  return cpu_supports(simd_level::avx512) && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

simd_level detected_level() {
  if (cpu_supports(simd_level::avx512)) return simd_level::avx512;
  if (cpu_supports(simd_level::avx2)) return simd_level::avx2;
  return simd_level::scalar;
}

std::optional<simd_level> parse_level(std::string_view text) {
  if (text == "scalar") return simd_level::scalar;
  if (text == "avx2") return simd_level::avx2;
  if (text == "avx512") return simd_level::avx512;
  return std::nullopt;
}

std::string_view level_name(simd_level level) {
  switch (level) {
    case simd_level::scalar:
      return "scalar";
    case simd_level::avx2:
      return "avx2";
    case simd_level::avx512:
      return "avx512";
  }
  return "unknown";
}

simd_level active_level() {
  static const simd_level chosen = [] {
    simd_level best = detected_level();
    const char* forced = std::getenv("SHOAL_SIMD");
    if (forced == nullptr || *forced == '\0') return best;
    auto wanted = parse_level(forced);
    if (!wanted) return best;  // dispatch.cc logs the unrecognised value
    return static_cast<uint8_t>(*wanted) <= static_cast<uint8_t>(best) ? *wanted : best;
  }();
  return chosen;
}

}  // namespace shoal::index::distance
