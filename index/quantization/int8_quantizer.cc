#include "index/quantization/int8_quantizer.h"

#include <algorithm>
#include <cmath>

#include "engine/common/assert.h"

namespace shoal::index {

void int8_quantizer::train(const float* rows, size_t n, float quantile, size_t max_sample) {
  SHOAL_ASSERT(n > 0 && dim_ > 0, "training an int8 quantizer needs data");
  quantile = std::clamp(quantile, 0.5f, 1.0f);
  const size_t step = std::max<size_t>(1, n / std::max<size_t>(1, max_sample));
  std::vector<float> column;
  column.reserve(n / step + 1);
  std::vector<float> offsets(dim_);
  float widest = 0;
  for (size_t j = 0; j < dim_; ++j) {
    column.clear();
    for (size_t i = 0; i < n; i += step) column.push_back(rows[i * dim_ + j]);
    const size_t last = column.size() - 1;
    const auto hi_at = static_cast<size_t>(std::llround(quantile * static_cast<double>(last)));
    const size_t lo_at = last - hi_at;
    std::nth_element(column.begin(), column.begin() + static_cast<ptrdiff_t>(lo_at), column.end());
    const float lo = column[lo_at];
    std::nth_element(column.begin(), column.begin() + static_cast<ptrdiff_t>(hi_at), column.end());
    const float hi = column[hi_at];
    offsets[j] = 0.5f * (lo + hi);
    widest = std::max(widest, 0.5f * (hi - lo));
  }
  float scale = widest > 0 ? widest / kMaxCode : 1.0f;
  assign(scale, std::move(offsets));
}

void int8_quantizer::assign(float scale, std::vector<float> offsets) {
  SHOAL_ASSERT(offsets.size() == dim_, "offsets for {} dims, quantizer has {}", offsets.size(),
               dim_);
  SHOAL_ASSERT(scale > 0 && std::isfinite(scale), "bad int8 scale {}", scale);
  scale_ = scale;
  inv_scale_ = 1.0f / scale;
  offsets_ = std::move(offsets);
  double norm = 0;
  for (float o : offsets_) norm += static_cast<double>(o) * o;
  offset_norm_ = static_cast<float>(norm);
  trained_ = true;
}

void int8_quantizer::encode(const float* x, int8_t* codes) const {
  SHOAL_DEBUG_ASSERT(trained_, "encode before training");
  // Clamp, then round half away from zero: branch-free, so the loop vectorises.
  const float limit = static_cast<float>(kMaxCode);
  const float* offsets = offsets_.data();
  for (size_t i = 0; i < dim_; ++i) {
    float c = (x[i] - offsets[i]) * inv_scale_;
    c = std::min(std::max(c, -limit), limit);
    codes[i] = static_cast<int8_t>(static_cast<int>(c + (c >= 0.0f ? 0.5f : -0.5f)));
  }
}

float int8_quantizer::correction(metric_kind metric, const int8_t* codes) const {
  switch (metric) {
    case metric_kind::l2: {
      int32_t sum = 0;  // <= 65536 * 127^2 < 2^31
      for (size_t i = 0; i < dim_; ++i) sum += int32_t{codes[i]} * int32_t{codes[i]};
      return static_cast<float>(sum);
    }
    case metric_kind::ip:
    case metric_kind::cosine: {
      float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      size_t i = 0;
      for (; i + 8 <= dim_; i += 8) {
        for (size_t j = 0; j < 8; ++j) part[j] += offsets_[i + j] * codes[i + j];
      }
      float sum = 0;
      for (; i < dim_; ++i) sum += offsets_[i] * codes[i];
      for (float p : part) sum += p;
      return scale_ * sum;
    }
    case metric_kind::manhattan:
      return 0.0f;
  }
  return 0.0f;
}

}  // namespace shoal::index
