#pragma once
// Which SIMD level this process uses. Detected once from the CPU; the environment variable
// SHOAL_SIMD=scalar|avx2|avx512 forces a lower (or equal) level, for tests and bisecting.
// Forcing a level the CPU lacks falls back to the best supported one and says so in the log.

#include <optional>
#include <string_view>

#include "index/distance/distance.h"

namespace shoal::index::distance {

/// The best level this CPU (and OS) supports.
simd_level detected_level();
/// Whether the CPU supports `level` (scalar always).
bool cpu_supports(simd_level level);
/// Whether the CPU has AVX-512 VNNI (used by the AVX-512 int8 dot kernels when present).
bool cpu_has_avx512_vnni();
/// "scalar" | "avx2" | "avx512" -> level; anything else -> nullopt.
std::optional<simd_level> parse_level(std::string_view text);
std::string_view level_name(simd_level level);
/// The level in use: min(detected, SHOAL_SIMD override), decided on first call.
simd_level active_level();

}  // namespace shoal::index::distance
