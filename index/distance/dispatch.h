#pragma once
// The kernel table in use, chosen once per process from the CPU and SHOAL_SIMD (simd_level.h),
// and the metric-aware wrappers the indexes call on their hot paths (PRACTICES A14).

#include <cstddef>
#include <string_view>

#include "index/distance/distance.h"
#include "index/types.h"

namespace shoal::index::distance {

/// The active table. The first call detects the CPU and logs the chosen ISA.
const kernel_table& kernels();
/// The table of a given level, for tests and benchmarks; the CPU must support it.
const kernel_table& kernels_for(simd_level level);
/// "scalar", "avx2", "avx512" or "avx512+vnni": what kernels() runs.
std::string_view isa_name();

/// Float32 distances in the library's convention (types.h) for one metric:
/// distance = offset + sign * kernel(a, b). Cosine assumes both vectors are unit length
/// (the indexes normalise on insert and at query time) and so runs the dot kernel.
class f32_metric {
 public:
  f32_metric() = default;
  f32_metric(metric_kind metric, const kernel_table& table) {
    switch (metric) {
      case metric_kind::l2:
        forms_ = table.f32_l2sq;
        break;
      case metric_kind::manhattan:
        forms_ = table.f32_l1;
        break;
      case metric_kind::ip:
        forms_ = table.f32_dot;
        sign_ = -1.0f;
        break;
      case metric_kind::cosine:
        forms_ = table.f32_dot;
        sign_ = -1.0f;
        offset_ = 1.0f;
        break;
    }
  }

  float operator()(const float* a, const float* b, size_t d) const {
    return offset_ + sign_ * forms_.one(a, b, d);
  }
  void x4(const float* q, const float* const* rows, size_t d, float* out) const {
    forms_.x4(q, rows, d, out);
    for (int i = 0; i < 4; ++i) out[i] = offset_ + sign_ * out[i];
  }
  void many(const float* q, const float* base, size_t n, size_t d, float* out) const {
    forms_.many(q, base, n, d, out);
    if (sign_ != 1.0f || offset_ != 0.0f) {
      for (size_t i = 0; i < n; ++i) out[i] = offset_ + sign_ * out[i];
    }
  }
  /// Converts a raw kernel value (e.g. a dot product from BLAS) to a distance.
  float finish(float raw) const { return offset_ + sign_ * raw; }

 private:
  f32_forms forms_{};
  float sign_ = 1.0f;
  float offset_ = 0.0f;
};

}  // namespace shoal::index::distance
