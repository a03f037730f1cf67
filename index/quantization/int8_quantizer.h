#pragma once
// Scalar int8 quantization with ranges trained on the data.
//
//   x_i ~= offset_i + scale * c_i,   c_i = clamp(round((x_i - offset_i) / scale), -127, 127)
//
// offset_i is the midpoint of dimension i's [q, 1-q] quantile range; `scale` is shared by all
// dimensions (the widest half-range / 127). A shared scale is what lets every metric run on
// exact integer kernels (distance/distance.h) plus one per-vector float term:
//
//   l2        |x-y|^2 ~= s^2 (|cx|^2 + |cy|^2 - 2 cx.cy)      correction(c) = |c|^2
//   ip        x.y     ~= sum offset^2 + correction(cx) + correction(cy) + s^2 cx.cy,
//                                                            correction(c) = s * sum offset_i c_i
//   cosine    as ip (unit vectors)
//   manhattan |x-y|_1 ~= s |cx - cy|_1                       correction(c) = 0
//
// The codes steer graph traversal only; final results are rescored with the float32 vectors.
// Values outside the trained range are clamped (documented drift risk: retrain by rebuilding).
//
// Snapshot section payload: f32 scale, f32 offsets[dim].

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "index/types.h"

namespace shoal::index {

class int8_quantizer {
 public:
  static constexpr int kMaxCode = 127;

  int8_quantizer() = default;
  explicit int8_quantizer(size_t dim) : dim_(dim) {}

  size_t dim() const { return dim_; }
  bool trained() const { return trained_; }
  float scale() const { return scale_; }
  std::span<const float> offsets() const { return offsets_; }
  /// sum offset_i^2 (the constant of the ip form).
  float offset_norm() const { return offset_norm_; }

  /// Learns offsets and scale from n rows of dim values (uses at most `max_sample` rows,
  /// evenly strided). quantile in (0.5, 1]: e.g. 0.999 ignores the outer 0.1% per side.
  void train(const float* rows, size_t n, float quantile, size_t max_sample = 20000);
  /// Sets trained parameters directly (loading a snapshot).
  void assign(float scale, std::vector<float> offsets);

  void encode(const float* x, int8_t* codes) const;
  /// The per-vector term of the metric's integer form (see above).
  float correction(metric_kind metric, const int8_t* codes) const;

 private:
  size_t dim_ = 0;
  bool trained_ = false;
  float scale_ = 1.0f;
  float inv_scale_ = 1.0f;
  float offset_norm_ = 0.0f;
  std::vector<float> offsets_;
};

}  // namespace shoal::index
