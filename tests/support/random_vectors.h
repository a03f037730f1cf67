#pragma once
// Seeded vector generators for index tests: the same seed gives the same data on every machine
// (std::mt19937_64 and hand-rolled transforms; no std::*_distribution, whose output differs
// between standard libraries).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace shoal::test {

class seeded_rng {
 public:
  explicit seeded_rng(uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return engine_() % n; }
  /// Standard normal (Box-Muller).
  double gaussian() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 engine_;
};

/// n x dim row-major values uniform in [lo, hi).
inline std::vector<float> uniform_vectors(size_t n, size_t dim, uint64_t seed, float lo = -1.0f,
                                          float hi = 1.0f) {
  seeded_rng rng(seed);
  std::vector<float> out(n * dim);
  for (auto& v : out) v = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return out;
}

/// n x dim standard-normal values.
inline std::vector<float> gaussian_vectors(size_t n, size_t dim, uint64_t seed) {
  seeded_rng rng(seed);
  std::vector<float> out(n * dim);
  for (auto& v : out) v = static_cast<float>(rng.gaussian());
  return out;
}

/// n x dim points around `clusters` gaussian centres (spread 1 per axis, centres spread
/// `centre_spread`): the shape of real embedding sets, harder for graphs than uniform noise.
inline std::vector<float> clustered_vectors(size_t n, size_t dim, size_t clusters, uint64_t seed,
                                            float centre_spread = 4.0f) {
  seeded_rng rng(seed);
  std::vector<float> centres(clusters * dim);
  for (auto& c : centres) c = static_cast<float>(centre_spread * rng.gaussian());
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    size_t c = rng.below(clusters);
    for (size_t j = 0; j < dim; ++j) {
      out[i * dim + j] = centres[c * dim + j] + static_cast<float>(rng.gaussian());
    }
  }
  return out;
}

/// n x dim points on `clusters` random `intrinsic`-dimensional patches (a gaussian latent
/// vector through a random linear map per cluster, plus a little isotropic noise): low
/// intrinsic dimension, like real embeddings, so graph indexes reach high recall on them.
inline std::vector<float> embedding_like_vectors(size_t n, size_t dim, size_t clusters,
                                                 size_t intrinsic, uint64_t seed,
                                                 float noise = 0.05f) {
  seeded_rng rng(seed);
  std::vector<float> centres(clusters * dim), maps(clusters * dim * intrinsic);
  for (auto& c : centres) c = static_cast<float>(2.0 * rng.gaussian());
  for (auto& a : maps) a = static_cast<float>(rng.gaussian() / std::sqrt(double(intrinsic)));
  std::vector<float> out(n * dim), z(intrinsic);
  for (size_t i = 0; i < n; ++i) {
    size_t c = rng.below(clusters);
    for (auto& x : z) x = static_cast<float>(rng.gaussian());
    for (size_t j = 0; j < dim; ++j) {
      double v = centres[c * dim + j] + noise * rng.gaussian();
      const float* row = &maps[(c * dim + j) * intrinsic];
      for (size_t t = 0; t < intrinsic; ++t) v += row[t] * z[t];
      out[i * dim + j] = static_cast<float>(v);
    }
  }
  return out;
}

/// Replaces every `every`-th row with a copy of an earlier row: exact duplicates.
inline void add_duplicates(std::vector<float>& data, size_t dim, size_t every, uint64_t seed) {
  seeded_rng rng(seed);
  size_t n = data.size() / dim;
  for (size_t i = every; i < n; i += every) {
    size_t src = rng.below(i);
    for (size_t j = 0; j < dim; ++j) data[i * dim + j] = data[src * dim + j];
  }
}

}  // namespace shoal::test
