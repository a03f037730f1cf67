#pragma once
// The distance kernel API: one table of function pointers per instruction-set level
// (PRACTICES A14). kernels_scalar.cc is the reference and the test oracle; kernels_avx2.cc and
// kernels_avx512.cc (+ kernels_avx512_vnni.cc) are compiled with only their own ISA flags and
// must agree with it (exactly for int8, to float rounding for float32).
//
// Forms, for every metric:
//   one   (a, b, d)                  -> value
//   x4    (q, b[4], d, out[4])       four rows against one query (neighbour lists in HNSW)
//   many  (q, base, n, d, out[n])    n contiguous rows of d values (flat scans)
// Pointers need no alignment. Float kernels return raw quantities, not the index's distance:
//   l2sq = sum (a-b)^2, dot = sum a*b, l1 = sum |a-b|, cosine = 1 - dot / (|a| |b|)
//   (cosine is 1 when either vector is zero).
// int8 kernels work on codes in [-127, 127] (quantization/ never produces -128) and are exact:
//   dot = sum a*b, l2sq = sum (a-b)^2, l1 = sum |a-b|, all in int32 (safe for d < 2^16).

#include <cstddef>
#include <cstdint>

namespace shoal::index::distance {

enum class simd_level : uint8_t { scalar = 0, avx2 = 1, avx512 = 2 };

using f32_one_fn = float (*)(const float* a, const float* b, size_t d);
using f32_x4_fn = void (*)(const float* q, const float* const* rows, size_t d, float* out);
using f32_many_fn = void (*)(const float* q, const float* base, size_t n, size_t d, float* out);

using i8_one_fn = int32_t (*)(const int8_t* a, const int8_t* b, size_t d);
using i8_x4_fn = void (*)(const int8_t* q, const int8_t* const* rows, size_t d, int32_t* out);
using i8_many_fn = void (*)(const int8_t* q, const int8_t* base, size_t n, size_t d, int32_t* out);

template <typename One, typename X4, typename Many>
struct kernel_forms {
  One one = nullptr;
  X4 x4 = nullptr;
  Many many = nullptr;
};

using f32_forms = kernel_forms<f32_one_fn, f32_x4_fn, f32_many_fn>;
using i8_forms = kernel_forms<i8_one_fn, i8_x4_fn, i8_many_fn>;

struct kernel_table {
  simd_level level = simd_level::scalar;
  const char* isa = "scalar";  // e.g. "avx512+vnni"
  f32_forms f32_l2sq, f32_dot, f32_l1, f32_cosine;
  i8_forms i8_dot, i8_l2sq, i8_l1;
};

// One table per compiled level. The AVX tables must only be used when the CPU supports them
// (dispatch.h checks); the VNNI patch upgrades the AVX-512 int8 dot kernels in place.
const kernel_table& scalar_kernels();
const kernel_table& avx2_kernels();
const kernel_table& avx512_kernels();
void patch_avx512_vnni(kernel_table& table);

}  // namespace shoal::index::distance
