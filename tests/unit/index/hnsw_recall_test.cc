// Recall@10 of the HNSW index against the exact oracle, on seeded clustered data, for every
// metric, with float32 and with int8 traversal + float32 rescoring. A graph checker runs after
// each build.
#include <gtest/gtest.h>

#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_invariants.h"
#include "tests/unit/index/index_test_util.h"

namespace shoal::index {
namespace {

using test_util::dataset;
using test_util::make_dataset;

struct recall_case {
  metric_kind metric;
  quantization_kind quantization;
  size_t ef;
  double min_recall;
};

std::unique_ptr<hnsw_index> make_hnsw(size_t dim, metric_kind metric, quantization_kind q,
                                      size_t m = 16, size_t efc = 100) {
  hnsw_config c;
  c.dim = dim;
  c.metric = metric;
  c.quantization = q;
  c.m = m;
  c.ef_construction = efc;
  c.quantization_train_size = 1000;
  auto r = hnsw_index::create(c);
  EXPECT_TRUE(r) << describe(r.error());
  return std::move(*r);
}

class HnswRecall : public ::testing::TestWithParam<recall_case> {};

TEST_P(HnswRecall, RecallAt10AgainstOracle) {
  const size_t dim = 32, n = 6000, k = 10;
  const auto [metric, quant, ef, min_recall] = GetParam();
  dataset data = make_dataset(test::embedding_like_vectors(n, dim, 30, 8, 11), dim);
  auto index = make_hnsw(dim, metric, quant);
  test_util::add_all(*index, data);
  ASSERT_EQ(index->size(), n);
  if (quant == quantization_kind::int8) EXPECT_TRUE(index->quantizer_trained());
  auto report = check_invariants(*index);
  EXPECT_TRUE(report.ok()) << report.summary();
  // Inner product is not a metric: HNSW leaves a few more points unreachable there.
  EXPECT_GE(report.reachable_from_entry, n * (metric == metric_kind::ip ? 95 : 99) / 100)
      << report.summary();

  auto queries = test::embedding_like_vectors(100, dim, 30, 8, 11 ^ 0xff);
  search_params params;
  params.ef = ef;
  auto r = test_util::measure_recall(*index, data, queries, k, params);
  EXPECT_GE(r.recall, min_recall) << to_string(metric) << "/" << to_string(quant);
  EXPECT_EQ(r.short_answers, 0u);
  // Exact mode is the oracle's answer.
  params.exact = true;
  r = test_util::measure_recall(*index, data, queries, k, params);
  EXPECT_GE(r.recall, 0.999);
}

INSTANTIATE_TEST_SUITE_P(
    Metrics, HnswRecall,
    // Thresholds per parameter set: int8 walks need a wider beam for the same recall, and
    // inner product (not a metric) is the hardest case for any graph index.
    ::testing::Values(recall_case{metric_kind::l2, quantization_kind::none, 100, 0.95},
                      recall_case{metric_kind::ip, quantization_kind::none, 200, 0.95},
                      recall_case{metric_kind::cosine, quantization_kind::none, 100, 0.95},
                      recall_case{metric_kind::manhattan, quantization_kind::none, 100, 0.95},
                      recall_case{metric_kind::l2, quantization_kind::int8, 200, 0.95},
                      recall_case{metric_kind::ip, quantization_kind::int8, 300, 0.95},
                      recall_case{metric_kind::cosine, quantization_kind::int8, 200, 0.95},
                      recall_case{metric_kind::manhattan, quantization_kind::int8, 200, 0.95}),
    [](const auto& p) {
      return std::string(to_string(p.param.metric)) + "_" +
             std::string(to_string(p.param.quantization));
    });

TEST(HnswRecall, SameSeedSameGraph) {
  const size_t dim = 16;
  dataset data = make_dataset(test::gaussian_vectors(1500, dim, 21), dim);
  auto a = make_hnsw(dim, metric_kind::l2, quantization_kind::none);
  auto b = make_hnsw(dim, metric_kind::l2, quantization_kind::none);
  test_util::add_all(*a, data);
  test_util::add_all(*b, data);
  auto q = test::gaussian_vectors(1, dim, 22);
  std::vector<neighbor> ra(10), rb(10);
  ASSERT_TRUE(a->search(q, 10, ra));
  ASSERT_TRUE(b->search(q, 10, rb));
  EXPECT_EQ(ra, rb);
  EXPECT_EQ(a->entry_point(), b->entry_point());
}

}  // namespace
}  // namespace shoal::index
