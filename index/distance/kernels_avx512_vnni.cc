// AVX-512 VNNI int8 kernels: vpdpbusd multiplies unsigned by signed bytes and adds groups of
// four into int32 lanes, 64 codes per instruction. Codes are signed, so one operand is shifted
// to unsigned (x + 128 == x ^ 0x80) and the excess 128 * sum(q) is subtracted afterwards; that
// correction is itself a vpdpbusd of 0x80 bytes with q. Compiled alone with the VNNI flags;
// dispatch.cc patches these in only when the CPU reports avx512vnni.
#include <immintrin.h>

// GCC 12's own _mm512_reduce_* and extract helpers start from _mm256_undefined_*(), which its
// -Wuninitialized flags once inlined (GCC bug 105593); the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdlib>

#include "index/distance/distance.h"

namespace shoal::index::distance {
namespace {

inline __mmask64 tail64(size_t rem) {
  return rem >= 64 ? ~__mmask64{0} : static_cast<__mmask64>((1ull << rem) - 1);
}

inline __m512i load(const int8_t* p, __mmask64 m) {
  return _mm512_maskz_loadu_epi8(m, p);
}

int32_t dot(const int8_t* a, const int8_t* b, size_t d) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc = _mm512_setzero_si512(), corr = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    __m512i x = _mm512_loadu_si512(a + i);
    __m512i y = _mm512_loadu_si512(b + i);
    acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(y, flip), x);
    corr = _mm512_dpbusd_epi32(corr, flip, x);
  }
  if (i < d) {
    __mmask64 m = tail64(d - i);
    __m512i x = load(a + i, m), y = load(b + i, m);
    acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(y, flip), x);
    corr = _mm512_dpbusd_epi32(corr, flip, x);
  }
  return _mm512_reduce_add_epi32(_mm512_sub_epi32(acc, corr));
}

void dot_x4(const int8_t* q, const int8_t* const* rows, size_t d, int32_t* out) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
  __m512i corr = _mm512_setzero_si512();
  for (size_t i = 0; i < d; i += 64) {
    __mmask64 m = tail64(d - i);
    __m512i qv = load(q + i, m);
    corr = _mm512_dpbusd_epi32(corr, flip, qv);
    a0 = _mm512_dpbusd_epi32(a0, _mm512_xor_si512(load(r0 + i, m), flip), qv);
    a1 = _mm512_dpbusd_epi32(a1, _mm512_xor_si512(load(r1 + i, m), flip), qv);
    a2 = _mm512_dpbusd_epi32(a2, _mm512_xor_si512(load(r2 + i, m), flip), qv);
    a3 = _mm512_dpbusd_epi32(a3, _mm512_xor_si512(load(r3 + i, m), flip), qv);
  }
  int32_t c = _mm512_reduce_add_epi32(corr);
  out[0] = _mm512_reduce_add_epi32(a0) - c;
  out[1] = _mm512_reduce_add_epi32(a1) - c;
  out[2] = _mm512_reduce_add_epi32(a2) - c;
  out[3] = _mm512_reduce_add_epi32(a3) - c;
}

void dot_many(const int8_t* q, const int8_t* base, size_t n, size_t d, int32_t* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int8_t* rows[4] = {base + i * d, base + (i + 1) * d, base + (i + 2) * d,
                             base + (i + 3) * d};
    dot_x4(q, rows, d, out + i);
  }
  for (; i < n; ++i) out[i] = dot(q, base + i * d, d);
}

// sum (a-b)^2 = sum a^2 + sum b^2 - 2 sum ab, all exact in int32. |x| fits both the unsigned
// and the signed operand, so the squares are vpdpbusd(|x|, |x|).
int32_t l2sq(const int8_t* a, const int8_t* b, size_t d) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i ab = _mm512_setzero_si512(), corr = _mm512_setzero_si512();
  __m512i aa = _mm512_setzero_si512(), bb = _mm512_setzero_si512();
  for (size_t i = 0; i < d; i += 64) {
    __mmask64 m = tail64(d - i);
    __m512i x = load(a + i, m), y = load(b + i, m);
    __m512i ax = _mm512_abs_epi8(x), ay = _mm512_abs_epi8(y);
    aa = _mm512_dpbusd_epi32(aa, ax, ax);
    bb = _mm512_dpbusd_epi32(bb, ay, ay);
    ab = _mm512_dpbusd_epi32(ab, _mm512_xor_si512(y, flip), x);
    corr = _mm512_dpbusd_epi32(corr, flip, x);
  }
  __m512i cross = _mm512_sub_epi32(ab, corr);
  __m512i total = _mm512_sub_epi32(_mm512_add_epi32(aa, bb), _mm512_add_epi32(cross, cross));
  return _mm512_reduce_add_epi32(total);
}

void l2sq_x4(const int8_t* q, const int8_t* const* rows, size_t d, int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = l2sq(q, rows[r], d);
}

void l2sq_many(const int8_t* q, const int8_t* base, size_t n, size_t d, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = l2sq(q, base + i * d, d);
}

}  // namespace

void patch_avx512_vnni(kernel_table& table) {
  table.isa = "avx512+vnni";
  table.i8_dot = {&dot, &dot_x4, &dot_many};
  table.i8_l2sq = {&l2sq, &l2sq_x4, &l2sq_many};
}

}  // namespace shoal::index::distance
