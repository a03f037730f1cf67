#include "index/vector_ops.h"

#include <cmath>
#include <cstring>
#include <unordered_set>

#include "index/errc.h"

namespace shoal::index {

result<void> check_vector(std::span<const float> v, size_t dim, metric_kind metric) {
  if (v.size() != dim) return errc::dimension_mismatch;
  double norm = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return errc::non_finite_value;
    norm += static_cast<double>(x) * x;
  }
  if (metric == metric_kind::cosine && !(norm > 0)) return errc::zero_vector;
  return {};
}

result<void> check_batch(std::span<const label_t> labels, std::span<const float> vectors,
                         size_t dim, metric_kind metric) {
  if (vectors.size() != labels.size() * dim) return errc::dimension_mismatch;
  std::unordered_set<label_t> seen;
  seen.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == invalid_label) return errc::bad_parameter;
    if (!seen.insert(labels[i]).second) return errc::duplicate_label;
    if (auto r = check_vector(vectors.subspan(i * dim, dim), dim, metric); !r) return r;
  }
  return {};
}

void normalize(const float* v, size_t dim, float* out) {
  double norm = 0;
  for (size_t i = 0; i < dim; ++i) norm += static_cast<double>(v[i]) * v[i];
  float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t i = 0; i < dim; ++i) out[i] = v[i] * inv;
}

void prepare_vector(const float* v, size_t dim, metric_kind metric, float* out) {
  if (metric == metric_kind::cosine) {
    normalize(v, dim, out);
  } else if (out != v) {
    std::memcpy(out, v, dim * sizeof(float));
  }
}

}  // namespace shoal::index
