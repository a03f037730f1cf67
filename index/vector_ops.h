#pragma once
// Input validation and preparation shared by every index kind.

#include <cstddef>
#include <span>

#include "engine/common/result.h"
#include "index/types.h"

namespace shoal::index {

/// dimension_mismatch, non_finite_value, or (cosine) zero_vector.
result<void> check_vector(std::span<const float> v, size_t dim, metric_kind metric);
/// Whole-batch validation: sizes, every vector, labels unique inside the batch.
result<void> check_batch(std::span<const label_t> labels, std::span<const float> vectors,
                         size_t dim, metric_kind metric);
/// sum v_i^2 in float, vectorised.
float sum_of_squares(const float* v, size_t dim);
/// out = v / |v| (out may alias v). The caller has checked |v| > 0.
void normalize(const float* v, size_t dim, float* out);
/// Copies v into out, normalised when the metric is cosine.
void prepare_vector(const float* v, size_t dim, metric_kind metric, float* out);

}  // namespace shoal::index
