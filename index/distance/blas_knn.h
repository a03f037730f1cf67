#pragma once
// Exact k-NN for a batch of queries through OpenBLAS sgemm (PRACTICES A16): the inner products
// of a block of queries against a block of base rows come from one matrix product, and the
// metric is finished from them: l2 = |q|^2 + |b|^2 - 2 q.b, ip = -q.b, cosine = 1 - q.b (unit
// vectors). Manhattan has no such form and never comes here.
// OpenBLAS must be the serial build (one core, no hidden threads: PRACTICES P5); the block
// sizes bound the scratch matrix so it stays in cache.

#include <cstddef>
#include <span>
#include <vector>

#include "index/filter.h"
#include "index/topk.h"
#include "index/types.h"

namespace shoal::index::distance {

struct blas_knn_config {
  // Measured on 200k x 128 (perf: shoal-perf flat --query-block/--base-block): 1024 x 1024
  // (a 4 MiB product block) beat 64..512 queries by 15-25%; larger base blocks lost.
  size_t query_block = 1024;  // queries per sgemm
  size_t base_block = 1024;   // base rows per sgemm
};

struct blas_knn_input {
  metric_kind metric = metric_kind::l2;
  const float* queries = nullptr;  // nq x dim, prepared (normalised for cosine)
  size_t nq = 0;
  const float* base = nullptr;        // n x dim, contiguous
  const float* base_norms = nullptr;  // n squared norms (l2 only)
  const label_t* labels = nullptr;    // n labels
  size_t n = 0;
  size_t dim = 0;
  size_t k = 0;
  const label_filter* filter = nullptr;
};

/// Writes query i's hits to out[i*k ...] (ascending, unfilled entries {inf, invalid_label}) and
/// its count to counts[i].
void blas_knn(const blas_knn_input& in, const blas_knn_config& config, std::span<neighbor> out,
              std::span<size_t> counts);

/// Whether sgemm can serve this metric.
inline bool blas_supports(metric_kind m) {
  return m != metric_kind::manhattan;
}

}  // namespace shoal::index::distance
