#pragma once
// Exact k-nearest-neighbour answers for recall checks, computed in double precision with the
// index library's distance convention (index/types.h) and ties broken by the lower label.
// Deliberately independent of index/ kernels: it is the thing they are checked against.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_set>
#include <vector>

#include "index/types.h"

namespace shoal::test {

inline double reference_distance(index::metric_kind metric, const float* a, const float* b,
                                 size_t dim) {
  double acc = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < dim; ++i) {
    double x = a[i], y = b[i];
    switch (metric) {
      case index::metric_kind::l2:
        acc += (x - y) * (x - y);
        break;
      case index::metric_kind::manhattan:
        acc += std::fabs(x - y);
        break;
      case index::metric_kind::ip:
        acc += x * y;
        break;
      case index::metric_kind::cosine:
        acc += x * y;
        aa += x * x;
        bb += y * y;
        break;
    }
  }
  if (metric == index::metric_kind::ip) return -acc;
  if (metric == index::metric_kind::cosine) {
    double denom = std::sqrt(aa) * std::sqrt(bb);
    return denom > 0 ? 1.0 - acc / denom : 1.0;
  }
  return acc;
}

/// The base set as (label, row) pairs; `allowed` (optional) restricts which labels count.
struct oracle_hit {
  double distance;
  index::label_t label;
};

inline std::vector<oracle_hit> exact_knn(index::metric_kind metric, const float* query,
                                         const std::vector<float>& base,
                                         const std::vector<index::label_t>& labels, size_t dim,
                                         size_t k,
                                         const std::function<bool(index::label_t)>& allowed = {}) {
  std::vector<oracle_hit> all;
  all.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (allowed && !allowed(labels[i])) continue;
    all.push_back({reference_distance(metric, query, &base[i * dim], dim), labels[i]});
  }
  size_t take = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + take, all.end(), [](const auto& x, const auto& y) {
    return x.distance < y.distance || (x.distance == y.distance && x.label < y.label);
  });
  all.resize(take);
  return all;
}

/// Fraction of the true top-k found, counting a returned label whose true distance ties the
/// k-th true distance (within a relative epsilon) as a hit, as ann-benchmarks does.
inline double recall_at_k(const std::vector<oracle_hit>& truth,
                          std::span<const index::neighbor> found, index::metric_kind metric,
                          const float* query,
                          const std::function<const float*(index::label_t)>& row, size_t dim) {
  if (truth.empty()) return 1.0;
  std::unordered_set<index::label_t> want;
  for (const auto& t : truth) want.insert(t.label);
  double kth = truth.back().distance;
  double eps = 1e-5 * std::max(1.0, std::fabs(kth));
  size_t hits = 0;
  std::unordered_set<index::label_t> seen;
  for (const auto& f : found) {
    if (f.label == index::invalid_label || !seen.insert(f.label).second) continue;
    if (want.count(f.label)) {
      ++hits;
    } else if (row) {
      const float* v = row(f.label);
      if (v && reference_distance(metric, query, v, dim) <= kth + eps) ++hits;
    }
  }
  return std::min(1.0, static_cast<double>(hits) / static_cast<double>(truth.size()));
}

}  // namespace shoal::test
