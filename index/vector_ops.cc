#include "index/vector_ops.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "index/errc.h"

namespace shoal::index {

float sum_of_squares(const float* v, size_t dim) {
  // Eight independent partial sums: the compiler keeps them in one vector register, where a
  // single running sum would serialise every addition.
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (size_t j = 0; j < 8; ++j) part[j] += v[i + j] * v[i + j];
  }
  float sum = 0;
  for (; i < dim; ++i) sum += v[i] * v[i];
  for (float p : part) sum += p;
  return sum;
}

result<void> check_vector(std::span<const float> v, size_t dim, metric_kind metric) {
  if (v.size() != dim) return errc::dimension_mismatch;
  // Branch-free so it vectorises: |NaN| <= max is false, and so is |inf| <= max.
  bool finite = true, nonzero = false;
  for (float x : v) {
    finite &= std::fabs(x) <= std::numeric_limits<float>::max();
    nonzero |= x != 0.0f;
  }
  if (!finite) return errc::non_finite_value;
  if (metric == metric_kind::cosine && !nonzero) return errc::zero_vector;
  return {};
}

result<void> check_batch(std::span<const label_t> labels, std::span<const float> vectors,
                         size_t dim, metric_kind metric) {
  if (vectors.size() != labels.size() * dim) return errc::dimension_mismatch;
  if (labels.size() == 1) {  // a shard adds its points one at a time: no set to allocate
    if (labels[0] == invalid_label) return errc::bad_parameter;
    return check_vector(vectors, dim, metric);
  }
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
  const float norm = sum_of_squares(v, dim);
  // A vector so small its squares underflow is rescaled first (checked non-zero already).
  if (!(norm > std::numeric_limits<float>::min())) {
    double exact = 0;
    for (size_t i = 0; i < dim; ++i) exact += static_cast<double>(v[i]) * v[i];
    const double inv = 1.0 / std::sqrt(exact);
    for (size_t i = 0; i < dim; ++i) out[i] = static_cast<float>(v[i] * inv);
    return;
  }
  const float inv = 1.0f / std::sqrt(norm);
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
