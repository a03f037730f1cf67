// AVX-512 (F, BW, VL, DQ) kernels. This file alone is compiled with those flags
// (index/CMakeLists.txt); dispatch.cc only hands them out when the CPU reports all four.
// Tails use masked loads, which never touch (or fault on) the masked-off bytes.
#include <immintrin.h>

// GCC 12's own _mm512_reduce_* and extract helpers start from _mm256_undefined_*(), which its
// -Wuninitialized flags once inlined (GCC bug 105593); the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cmath>

#include "index/distance/distance.h"

namespace shoal::index::distance {
namespace {

inline __mmask16 tail16(size_t rem) {
  return static_cast<__mmask16>((1u << rem) - 1);
}
inline __mmask32 tail32(size_t rem) {
  return static_cast<__mmask32>((1ull << rem) - 1);
}
inline __mmask64 tail64(size_t rem) {
  return rem >= 64 ? ~__mmask64{0} : static_cast<__mmask64>((1ull << rem) - 1);
}

struct l2_op {
  static __m512 step(__m512 acc, __m512 q, __m512 x) {
    __m512 diff = _mm512_sub_ps(q, x);
    return _mm512_fmadd_ps(diff, diff, acc);
  }
};
struct dot_op {
  static __m512 step(__m512 acc, __m512 q, __m512 x) { return _mm512_fmadd_ps(q, x, acc); }
};
struct l1_op {
  static __m512 step(__m512 acc, __m512 q, __m512 x) {
    return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(q, x)));
  }
};

template <typename Op>
float one(const float* a, const float* b, size_t d) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    acc0 = Op::step(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc1 = Op::step(acc1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc2 = Op::step(acc2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    acc3 = Op::step(acc3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
  }
  for (; i + 16 <= d; i += 16) {
    acc0 = Op::step(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
  }
  if (i < d) {
    __mmask16 m = tail16(d - i);
    acc1 = Op::step(acc1, _mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

template <typename Op>
void x4(const float* q, const float* const* rows, size_t d, float* out) {
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    __m512 qv = _mm512_loadu_ps(q + i);
    a0 = Op::step(a0, qv, _mm512_loadu_ps(r0 + i));
    a1 = Op::step(a1, qv, _mm512_loadu_ps(r1 + i));
    a2 = Op::step(a2, qv, _mm512_loadu_ps(r2 + i));
    a3 = Op::step(a3, qv, _mm512_loadu_ps(r3 + i));
  }
  if (i < d) {
    __mmask16 m = tail16(d - i);
    __m512 qv = _mm512_maskz_loadu_ps(m, q + i);
    a0 = Op::step(a0, qv, _mm512_maskz_loadu_ps(m, r0 + i));
    a1 = Op::step(a1, qv, _mm512_maskz_loadu_ps(m, r1 + i));
    a2 = Op::step(a2, qv, _mm512_maskz_loadu_ps(m, r2 + i));
    a3 = Op::step(a3, qv, _mm512_maskz_loadu_ps(m, r3 + i));
  }
  out[0] = _mm512_reduce_add_ps(a0);
  out[1] = _mm512_reduce_add_ps(a1);
  out[2] = _mm512_reduce_add_ps(a2);
  out[3] = _mm512_reduce_add_ps(a3);
}

template <typename Op>
void many(const float* q, const float* base, size_t n, size_t d, float* out) {
  // Rows are read once, front to back: keep a few KiB of them in flight ahead of the kernel
  // so the scan runs at memory bandwidth rather than at what the hardware prefetcher guesses.
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

inline float cosine_finish(float ab, float aa, float bb) {
  float denom = std::sqrt(aa) * std::sqrt(bb);
  if (!(denom > 0)) return 1.0f;
  return 1.0f - ab / denom;
}

float cosine(const float* a, const float* b, size_t d) {
  __m512 ab = _mm512_setzero_ps(), aa = _mm512_setzero_ps(), bb = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    __m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
    ab = _mm512_fmadd_ps(x, y, ab);
    aa = _mm512_fmadd_ps(x, x, aa);
    bb = _mm512_fmadd_ps(y, y, bb);
  }
  if (i < d) {
    __mmask16 m = tail16(d - i);
    __m512 x = _mm512_maskz_loadu_ps(m, a + i), y = _mm512_maskz_loadu_ps(m, b + i);
    ab = _mm512_fmadd_ps(x, y, ab);
    aa = _mm512_fmadd_ps(x, x, aa);
    bb = _mm512_fmadd_ps(y, y, bb);
  }
  return cosine_finish(_mm512_reduce_add_ps(ab), _mm512_reduce_add_ps(aa),
                       _mm512_reduce_add_ps(bb));
}

void cosine_x4(const float* q, const float* const* rows, size_t d, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = cosine(q, rows[r], d);
}

void cosine_many(const float* q, const float* base, size_t n, size_t d, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = cosine(q, base + i * d, d);
}

// ---- int8 (AVX-512BW): sign-extend 32 codes to 16-bit lanes, multiply-add pairs into int32.

inline __m512i widen(const int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512i widen_tail(const int8_t* p, size_t rem) {
  return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(tail32(rem), p));
}

struct i8_dot_op {
  static __m512i step(__m512i acc, __m512i q, __m512i x) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(q, x));
  }
};
struct i8_l2_op {
  static __m512i step(__m512i acc, __m512i q, __m512i x) {
    __m512i diff = _mm512_sub_epi16(q, x);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(diff, diff));
  }
};

template <typename Op>
int32_t i8_one(const int8_t* a, const int8_t* b, size_t d) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    acc0 = Op::step(acc0, widen(a + i), widen(b + i));
    acc1 = Op::step(acc1, widen(a + i + 32), widen(b + i + 32));
  }
  for (; i + 32 <= d; i += 32) acc0 = Op::step(acc0, widen(a + i), widen(b + i));
  if (i < d) acc1 = Op::step(acc1, widen_tail(a + i, d - i), widen_tail(b + i, d - i));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

template <typename Op>
void i8_x4(const int8_t* q, const int8_t* const* rows, size_t d, int32_t* out) {
  const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    __m512i qv = widen(q + i);
    a0 = Op::step(a0, qv, widen(r0 + i));
    a1 = Op::step(a1, qv, widen(r1 + i));
    a2 = Op::step(a2, qv, widen(r2 + i));
    a3 = Op::step(a3, qv, widen(r3 + i));
  }
  if (i < d) {
    size_t rem = d - i;
    __m512i qv = widen_tail(q + i, rem);
    a0 = Op::step(a0, qv, widen_tail(r0 + i, rem));
    a1 = Op::step(a1, qv, widen_tail(r1 + i, rem));
    a2 = Op::step(a2, qv, widen_tail(r2 + i, rem));
    a3 = Op::step(a3, qv, widen_tail(r3 + i, rem));
  }
  out[0] = _mm512_reduce_add_epi32(a0);
  out[1] = _mm512_reduce_add_epi32(a1);
  out[2] = _mm512_reduce_add_epi32(a2);
  out[3] = _mm512_reduce_add_epi32(a3);
}

// |a - b| is unchanged by adding 128 to both, which turns the codes into unsigned bytes that
// the sum-of-absolute-differences instruction takes directly. Masked-off bytes load as zero in
// both operands and so add nothing.
int32_t i8_l1(const int8_t* a, const int8_t* b, size_t d) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < d; i += 64) {
    __mmask64 m = tail64(d - i);
    __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + i), flip);
    __m512i y = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, b + i), flip);
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(x, y));
  }
  return static_cast<int32_t>(_mm512_reduce_add_epi64(acc));
}

void i8_l1_x4(const int8_t* q, const int8_t* const* rows, size_t d, int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = i8_l1(q, rows[r], d);
}

template <void (*X4)(const int8_t*, const int8_t* const*, size_t, int32_t*),
          int32_t (*One)(const int8_t*, const int8_t*, size_t)>
void i8_many(const int8_t* q, const int8_t* base, size_t n, size_t d, int32_t* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int8_t* rows[4] = {base + i * d, base + (i + 1) * d, base + (i + 2) * d,
                             base + (i + 3) * d};
    X4(q, rows, d, out + i);
  }
  for (; i < n; ++i) out[i] = One(q, base + i * d, d);
}

template <typename Op>
constexpr f32_forms f32() {
  return {&one<Op>, &x4<Op>, &many<Op>};
}
template <typename Op>
constexpr i8_forms i8() {
  return {&i8_one<Op>, &i8_x4<Op>, &i8_many<&i8_x4<Op>, &i8_one<Op>>};
}

}  // namespace

const kernel_table& avx512_kernels() {
  static const kernel_table table{
      simd_level::avx512, "avx512",       f32<l2_op>(),
      f32<dot_op>(),      f32<l1_op>(),   {&cosine, &cosine_x4, &cosine_many},
      i8<i8_dot_op>(),    i8<i8_l2_op>(), {&i8_l1, &i8_l1_x4, &i8_many<&i8_l1_x4, &i8_l1>}};
  return table;
}

}  // namespace shoal::index::distance
