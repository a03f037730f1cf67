// Reference kernels: plain loops in a fixed summation order. They are the oracle the SIMD
// kernels are tested against and the fallback on CPUs without AVX2. Compiled with the
// portable baseline flags only.
#include <cmath>
#include <cstdlib>

#include "index/distance/distance.h"

namespace shoal::index::distance {
namespace {

float l2sq(const float* a, const float* b, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; ++i) {
    float diff = a[i] - b[i];
    sum += diff * diff;
  }
  return sum;
}

float dot(const float* a, const float* b, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; ++i) sum += a[i] * b[i];
  return sum;
}

float l1(const float* a, const float* b, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; ++i) sum += std::fabs(a[i] - b[i]);
  return sum;
}

float cosine(const float* a, const float* b, size_t d) {
  float ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < d; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  float denom = std::sqrt(aa) * std::sqrt(bb);
  if (!(denom > 0)) return 1.0f;
  return 1.0f - ab / denom;
}

int32_t i8_dot(const int8_t* a, const int8_t* b, size_t d) {
  int32_t sum = 0;
  for (size_t i = 0; i < d; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
  return sum;
}

int32_t i8_l2sq(const int8_t* a, const int8_t* b, size_t d) {
  int32_t sum = 0;
  for (size_t i = 0; i < d; ++i) {
    int32_t diff = int32_t{a[i]} - int32_t{b[i]};
    sum += diff * diff;
  }
  return sum;
}

int32_t i8_l1(const int8_t* a, const int8_t* b, size_t d) {
  int32_t sum = 0;
  for (size_t i = 0; i < d; ++i) sum += std::abs(int32_t{a[i]} - int32_t{b[i]});
  return sum;
}

template <typename T, typename R, R (*One)(const T*, const T*, size_t)>
void x4(const T* q, const T* const* rows, size_t d, R* out) {
  for (int r = 0; r < 4; ++r) out[r] = One(q, rows[r], d);
}

template <typename T, typename R, R (*One)(const T*, const T*, size_t)>
void many(const T* q, const T* base, size_t n, size_t d, R* out) {
  for (size_t i = 0; i < n; ++i) out[i] = One(q, base + i * d, d);
}

template <float (*One)(const float*, const float*, size_t)>
constexpr f32_forms f32() {
  return {One, &x4<float, float, One>, &many<float, float, One>};
}
template <int32_t (*One)(const int8_t*, const int8_t*, size_t)>
constexpr i8_forms i8() {
  return {One, &x4<int8_t, int32_t, One>, &many<int8_t, int32_t, One>};
}

}  // namespace

const kernel_table& scalar_kernels() {
  static const kernel_table table{simd_level::scalar, "scalar",      f32<l2sq>(),
                                  f32<dot>(),         f32<l1>(),     f32<cosine>(),
                                  i8<i8_dot>(),       i8<i8_l2sq>(), i8<i8_l1>()};
  return table;
}

}  // namespace shoal::index::distance
