#pragma once
// Shared helpers for the index suites: build an index over seeded data and measure recall@k
// against the brute-force oracle.

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "index/vector_index.h"
#include "tests/support/brute_force_oracle.h"
#include "tests/support/random_vectors.h"

namespace shoal::index::test_util {

/// A labelled data set kept beside an index so the oracle can see exactly what is live.
struct dataset {
  size_t dim = 0;
  std::vector<float> vectors;  // rows, parallel to labels
  std::vector<label_t> labels;

  size_t size() const { return labels.size(); }
  const float* row(size_t i) const { return vectors.data() + i * dim; }
  const float* row_of(label_t label) const {
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == label) return row(i);
    }
    return nullptr;
  }
};

inline dataset make_dataset(std::vector<float> vectors, size_t dim, label_t first_label = 1000) {
  dataset d;
  d.dim = dim;
  d.vectors = std::move(vectors);
  for (size_t i = 0; i < d.vectors.size() / dim; ++i) d.labels.push_back(first_label + i * 7);
  return d;
}

inline void add_all(vector_index& index, const dataset& d) {
  auto r = index.add_batch(d.labels, d.vectors);
  ASSERT_TRUE(r) << describe(r.error());
}

struct recall_result {
  double recall = 0;
  size_t short_answers = 0;  // queries that got fewer than min(k, matching) results
};

/// Mean recall@k over the queries, against the oracle on `data` (restricted by `allowed`).
inline recall_result measure_recall(const vector_index& index, const dataset& data,
                                    const std::vector<float>& queries, size_t k,
                                    search_params params = {},
                                    const std::function<bool(label_t)>& allowed = {}) {
  recall_result out;
  const size_t dim = data.dim;
  const size_t nq = queries.size() / dim;
  std::unordered_map<label_t, size_t> row_index;
  for (size_t i = 0; i < data.size(); ++i) row_index[data.labels[i]] = i;
  std::vector<neighbor> found(k);
  double total = 0;
  for (size_t q = 0; q < nq; ++q) {
    const float* query = queries.data() + q * dim;
    auto truth = test::exact_knn(index.metric(), query, data.vectors, data.labels, dim, k, allowed);
    auto n = index.search({query, dim}, k, found, params);
    EXPECT_TRUE(n) << describe(n.error());
    if (!n) return out;
    if (*n < truth.size()) ++out.short_answers;
    total += test::recall_at_k(
        truth, std::span<const neighbor>(found.data(), *n), index.metric(), query,
        [&](label_t l) -> const float* {
          auto it = row_index.find(l);
          return it == row_index.end() ? nullptr : data.row(it->second);
        },
        dim);
  }
  out.recall = total / static_cast<double>(nq);
  return out;
}

}  // namespace shoal::index::test_util
