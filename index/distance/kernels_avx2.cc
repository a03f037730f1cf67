// AVX2 + FMA kernels. This file alone is compiled with -mavx2 -mfma (index/CMakeLists.txt);
// dispatch.cc only hands these out when the CPU reports both features.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <immintrin.h>

#include "index/distance/distance.h"

namespace shoal::index::distance {
namespace {

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

inline int32_t hsum_epi32(__m256i v) {
  __m128i lo = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  lo = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, 0x4E));
  lo = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, 0xB1));
  return _mm_cvtsi128_si32(lo);
}

// Lane mask for the last `rem` (< 8) floats: maskload never touches the masked-off lanes.
inline __m256i tail_mask(size_t rem) {
  alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - rem));
}

// Per-metric element operations on 8 lanes: acc += f(q, x).
struct l2_op {
  static __m256 step(__m256 acc, __m256 q, __m256 x) {
    __m256 diff = _mm256_sub_ps(q, x);
    return _mm256_fmadd_ps(diff, diff, acc);
  }
};
struct dot_op {
  static __m256 step(__m256 acc, __m256 q, __m256 x) { return _mm256_fmadd_ps(q, x, acc); }
};
struct l1_op {
  static __m256 step(__m256 acc, __m256 q, __m256 x) {
    // No namespace-scope vector constants: their initialisers would run on every CPU.
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    return _mm256_add_ps(acc, _mm256_and_ps(_mm256_sub_ps(q, x), abs_mask));
  }
};

template <typename Op>
float one(const float* a, const float* b, size_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = Op::step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc1 = Op::step(acc1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc2 = Op::step(acc2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    acc3 = Op::step(acc3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
  }
  for (; i + 8 <= d; i += 8) acc0 = Op::step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
  if (i < d) {
    __m256i m = tail_mask(d - i);
    acc1 = Op::step(acc1, _mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

template <typename Op>
void x4(const float* q, const float* const* rows, size_t d, float* out) {
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    __m256 qv = _mm256_loadu_ps(q + i);
    a0 = Op::step(a0, qv, _mm256_loadu_ps(r0 + i));
    a1 = Op::step(a1, qv, _mm256_loadu_ps(r1 + i));
    a2 = Op::step(a2, qv, _mm256_loadu_ps(r2 + i));
    a3 = Op::step(a3, qv, _mm256_loadu_ps(r3 + i));
  }
  if (i < d) {
    __m256i m = tail_mask(d - i);
    __m256 qv = _mm256_maskload_ps(q + i, m);
    a0 = Op::step(a0, qv, _mm256_maskload_ps(r0 + i, m));
    a1 = Op::step(a1, qv, _mm256_maskload_ps(r1 + i, m));
    a2 = Op::step(a2, qv, _mm256_maskload_ps(r2 + i, m));
    a3 = Op::step(a3, qv, _mm256_maskload_ps(r3 + i, m));
  }
  out[0] = hsum(a0);
  out[1] = hsum(a1);
  out[2] = hsum(a2);
  out[3] = hsum(a3);
}

template <typename Op>
void many(const float* q, const float* base, size_t n, size_t d, float* out) {
  // Rows are read once, front to back: keep 4 KiB of them in flight ahead of the kernel.
  const char* stream = reinterpret_cast<const char*>(base);
  const size_t total = n * d * sizeof(float);
  constexpr size_t kAheadBytes = 4096;
  size_t fetched = std::min(total, kAheadBytes);
  for (size_t at = 0; at < fetched; at += 64) _mm_prefetch(stream + at, _MM_HINT_T0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const size_t want = std::min(total, (i + 4) * d * sizeof(float) + kAheadBytes);
    for (; fetched < want; fetched += 64) _mm_prefetch(stream + fetched, _MM_HINT_T0);
    const float* rows[4] = {base + i * d, base + (i + 1) * d, base + (i + 2) * d,
                            base + (i + 3) * d};
    x4<Op>(q, rows, d, out + i);
  }
  for (; i < n; ++i) out[i] = one<Op>(q, base + i * d, d);
}

float cosine(const float* a, const float* b, size_t d) {
  __m256 ab = _mm256_setzero_ps(), aa = _mm256_setzero_ps(), bb = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
    ab = _mm256_fmadd_ps(x, y, ab);
    aa = _mm256_fmadd_ps(x, x, aa);
    bb = _mm256_fmadd_ps(y, y, bb);
  }
  if (i < d) {
    __m256i m = tail_mask(d - i);
    __m256 x = _mm256_maskload_ps(a + i, m), y = _mm256_maskload_ps(b + i, m);
    ab = _mm256_fmadd_ps(x, y, ab);
    aa = _mm256_fmadd_ps(x, x, aa);
    bb = _mm256_fmadd_ps(y, y, bb);
  }
  float denom = std::sqrt(hsum(aa)) * std::sqrt(hsum(bb));
  if (!(denom > 0)) return 1.0f;
  return 1.0f - hsum(ab) / denom;
}

void cosine_x4(const float* q, const float* const* rows, size_t d, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = cosine(q, rows[r], d);
}

void cosine_many(const float* q, const float* base, size_t n, size_t d, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = cosine(q, base + i * d, d);
}

// ---- int8: sign-extend 16 codes to 16-bit lanes, then multiply-add pairs into 32-bit lanes.

inline __m256i widen(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

int32_t i8_dot(const int8_t* a, const int8_t* b, size_t d) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(widen(a + i), widen(b + i)));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(widen(a + i + 16), widen(b + i + 16)));
  }
  for (; i + 16 <= d; i += 16) {
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(widen(a + i), widen(b + i)));
  }
  int32_t sum = hsum_epi32(_mm256_add_epi32(acc0, acc1));
  for (; i < d; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
  return sum;
}

int32_t i8_l2sq(const int8_t* a, const int8_t* b, size_t d) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    __m256i d0 = _mm256_sub_epi16(widen(a + i), widen(b + i));
    __m256i d1 = _mm256_sub_epi16(widen(a + i + 16), widen(b + i + 16));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(d0, d0));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(d1, d1));
  }
  for (; i + 16 <= d; i += 16) {
    __m256i d0 = _mm256_sub_epi16(widen(a + i), widen(b + i));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(d0, d0));
  }
  int32_t sum = hsum_epi32(_mm256_add_epi32(acc0, acc1));
  for (; i < d; ++i) {
    int32_t diff = int32_t{a[i]} - int32_t{b[i]};
    sum += diff * diff;
  }
  return sum;
}

// |a - b| is unchanged by adding 128 to both, which turns the codes into unsigned bytes that
// the sum-of-absolute-differences instruction takes directly.
int32_t i8_l1(const int8_t* a, const int8_t* b, size_t d) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    __m256i x = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)), flip);
    __m256i y = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)), flip);
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(x, y));
  }
  __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  int64_t sum = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
  for (; i < d; ++i) sum += std::abs(int32_t{a[i]} - int32_t{b[i]});
  return static_cast<int32_t>(sum);
}

template <int32_t (*One)(const int8_t*, const int8_t*, size_t)>
void i8_x4(const int8_t* q, const int8_t* const* rows, size_t d, int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = One(q, rows[r], d);
}

template <int32_t (*One)(const int8_t*, const int8_t*, size_t)>
void i8_many(const int8_t* q, const int8_t* base, size_t n, size_t d, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = One(q, base + i * d, d);
}

template <typename Op>
constexpr f32_forms f32() {
  return {&one<Op>, &x4<Op>, &many<Op>};
}
template <int32_t (*One)(const int8_t*, const int8_t*, size_t)>
constexpr i8_forms i8() {
  return {One, &i8_x4<One>, &i8_many<One>};
}

}  // namespace

const kernel_table& avx2_kernels() {
  static const kernel_table table{
      simd_level::avx2, "avx2",        f32<l2_op>(),
      f32<dot_op>(),    f32<l1_op>(),  {&cosine, &cosine_x4, &cosine_many},
      i8<i8_dot>(),     i8<i8_l2sq>(), i8<i8_l1>()};
  return table;
}

}  // namespace shoal::index::distance
