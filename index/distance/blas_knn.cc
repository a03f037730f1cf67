#include "index/distance/blas_knn.h"

#include <algorithm>
#include <limits>

#include <cblas.h>

#include "engine/common/assert.h"

namespace shoal::index::distance {

void blas_knn(const blas_knn_input& in, const blas_knn_config& config, std::span<neighbor> out,
              std::span<size_t> counts) {
  SHOAL_ASSERT(blas_supports(in.metric), "no sgemm form for {}", to_string(in.metric));
  SHOAL_ASSERT(out.size() >= in.nq * in.k && counts.size() >= in.nq, "blas_knn outputs too small");
  const size_t bq = std::max<size_t>(1, config.query_block);
  const size_t bn = std::max<size_t>(1, config.base_block);
  const bool l2 = in.metric == metric_kind::l2;
  // C = alpha * Q B^T: -2 q.b for l2 (norms added below), -q.b for ip and cosine.
  const float alpha = l2 ? -2.0f : -1.0f;
  const float offset = in.metric == metric_kind::cosine ? 1.0f : 0.0f;

  std::vector<float> products(bq * bn);
  std::vector<float> query_norms(bq);
  std::vector<topk_collector> heaps(bq);

  for (size_t q0 = 0; q0 < in.nq; q0 += bq) {
    const size_t mq = std::min(bq, in.nq - q0);
    for (size_t i = 0; i < mq; ++i) {
      heaps[i].reset(in.k);
      float norm = 0;
      if (l2) {
        const float* q = in.queries + (q0 + i) * in.dim;
        for (size_t j = 0; j < in.dim; ++j) norm += q[j] * q[j];
      }
      query_norms[i] = norm + offset;
    }
    for (size_t b0 = 0; b0 < in.n; b0 += bn) {
      const size_t mb = std::min(bn, in.n - b0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(mq),
                  static_cast<int>(mb), static_cast<int>(in.dim), alpha, in.queries + q0 * in.dim,
                  static_cast<int>(in.dim), in.base + b0 * in.dim, static_cast<int>(in.dim), 0.0f,
                  products.data(), static_cast<int>(mb));
      const float* norms = l2 ? in.base_norms + b0 : nullptr;
      const label_t* labels = in.labels + b0;
      for (size_t i = 0; i < mq; ++i) {
        float* row = products.data() + i * mb;
        const float base_term = query_norms[i];
        if (l2) {
          for (size_t j = 0; j < mb; ++j) row[j] = std::max(0.0f, row[j] + norms[j] + base_term);
        } else {
          for (size_t j = 0; j < mb; ++j) row[j] += base_term;
        }
        topk_collector& heap = heaps[i];
        float threshold = heap.threshold();
        for (size_t j = 0; j < mb; ++j) {
          if (row[j] > threshold) continue;
          if (in.filter != nullptr && !in.filter->matches(labels[j])) continue;
          heap.push(row[j], labels[j]);
          threshold = heap.threshold();
        }
      }
    }
    for (size_t i = 0; i < mq; ++i) {
      std::span<neighbor> dest = out.subspan((q0 + i) * in.k, in.k);
      size_t found = heaps[i].extract_sorted(dest);
      std::fill(dest.begin() + static_cast<ptrdiff_t>(found), dest.end(), neighbor{});
      counts[q0 + i] = found;
    }
  }
}

}  // namespace shoal::index::distance
