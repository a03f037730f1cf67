#include "index/flat/flat_index.h"

#include <gtest/gtest.h>

#include "index/errc.h"
#include "tests/unit/index/index_test_util.h"

namespace shoal::index {
namespace {

using test_util::dataset;
using test_util::make_dataset;

std::unique_ptr<flat_index> make_flat(size_t dim, metric_kind metric, size_t blas_threshold = 8) {
  flat_config c;
  c.dim = dim;
  c.metric = metric;
  c.blas_threshold = blas_threshold;
  auto r = flat_index::create(c);
  EXPECT_TRUE(r);
  return std::move(*r);
}

class FlatMetric : public ::testing::TestWithParam<metric_kind> {};

TEST_P(FlatMetric, SingleQueriesAreExact) {
  const size_t dim = 37;
  dataset data = make_dataset(test::gaussian_vectors(2000, dim, 1), dim);
  auto index = make_flat(dim, GetParam());
  test_util::add_all(*index, data);
  auto queries = test::gaussian_vectors(30, dim, 2);
  auto r = test_util::measure_recall(*index, data, queries, 10);
  EXPECT_GE(r.recall, 0.999);
  EXPECT_EQ(r.short_answers, 0u);
}

TEST_P(FlatMetric, BatchesAgreeWithSingleQueries) {
  const size_t dim = 24;
  dataset data = make_dataset(test::clustered_vectors(3000, dim, 20, 3), dim);
  auto index = make_flat(dim, GetParam(), /*blas_threshold=*/4);
  test_util::add_all(*index, data);
  const size_t nq = 40, k = 10;
  auto queries = test::clustered_vectors(nq, dim, 20, 4);
  std::vector<neighbor> batch(nq * k), single(k);
  std::vector<size_t> counts(nq);
  ASSERT_TRUE(index->search_batch(queries, k, batch, counts));
  for (size_t q = 0; q < nq; ++q) {
    ASSERT_EQ(counts[q], k);
    ASSERT_TRUE(index->search({queries.data() + q * dim, dim}, k, single));
    for (size_t i = 0; i < k; ++i) {
      // sgemm and the SIMD kernels round differently; the sets must agree up to near-ties.
      EXPECT_NEAR(batch[q * k + i].distance, single[i].distance,
                  1e-3f * std::max(1.0f, std::fabs(single[i].distance)))
          << "query " << q << " rank " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, FlatMetric,
                         ::testing::Values(metric_kind::l2, metric_kind::ip, metric_kind::cosine,
                                           metric_kind::manhattan),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST(FlatIndex, UpsertRemoveAndTies) {
  auto index = make_flat(2, metric_kind::l2);
  const float a[2] = {0, 0}, b[2] = {1, 0}, c[2] = {0, 1};
  ASSERT_TRUE(index->add(7, a));
  ASSERT_TRUE(index->add(3, b));
  ASSERT_TRUE(index->add(5, c));
  std::vector<neighbor> out(3);
  auto n = index->search(a, 3, out);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(out[0].label, 7u);
  EXPECT_EQ(out[1].label, 3u);  // b and c tie at distance 1: the lower label first
  EXPECT_EQ(out[2].label, 5u);
  ASSERT_TRUE(index->add(7, c));  // upsert moves 7 onto c
  EXPECT_EQ(index->size(), 3u);
  ASSERT_TRUE(index->remove(3));
  EXPECT_EQ(index->remove(3).error(), errc::label_not_found);
  n = index->search(c, 3, out);
  ASSERT_EQ(*n, 2u);
  EXPECT_EQ(out[0], (neighbor{0.0f, 5}));
  EXPECT_EQ(out[1], (neighbor{0.0f, 7}));
  EXPECT_EQ(out[2].label, invalid_label);
}

TEST(FlatIndex, RejectsBadInput) {
  auto index = make_flat(3, metric_kind::cosine);
  const float zero[3] = {0, 0, 0}, ok[3] = {1, 2, 3}, nan[3] = {1, NAN, 0};
  EXPECT_EQ(index->add(1, zero).error(), errc::zero_vector);
  EXPECT_EQ(index->add(1, nan).error(), errc::non_finite_value);
  EXPECT_EQ(index->add(1, std::span<const float>(ok, 2)).error(), errc::dimension_mismatch);
  const label_t dup[2] = {4, 4};
  const float two[6] = {1, 0, 0, 0, 1, 0};
  EXPECT_EQ(index->add_batch(dup, two).error(), errc::duplicate_label);
  EXPECT_EQ(index->size(), 0u);
  flat_config bad;
  EXPECT_FALSE(bad.validate());
}

TEST(FlatIndex, FiltersWithPredicateAndCandidateList) {
  const size_t dim = 8;
  dataset data = make_dataset(test::uniform_vectors(1000, dim, 9), dim);
  auto index = make_flat(dim, metric_kind::l2);
  test_util::add_all(*index, data);
  auto even = [](label_t l) { return l % 2 == 0; };
  predicate_filter<decltype(even)> by_predicate(even);
  std::vector<label_t> some(data.labels.begin(), data.labels.begin() + 20);
  some.push_back(999999);  // not in the index: ignored
  allow_list_filter by_list(some);
  auto queries = test::uniform_vectors(10, dim, 10);
  search_params params;
  params.filter = &by_predicate;
  auto r = test_util::measure_recall(*index, data, queries, 10, params, even);
  EXPECT_GE(r.recall, 0.999);
  params.filter = &by_list;
  r = test_util::measure_recall(*index, data, queries, 10, params,
                                [&](label_t l) { return by_list.matches(l); });
  EXPECT_GE(r.recall, 0.999);
  EXPECT_EQ(r.short_answers, 0u);
}

}  // namespace
}  // namespace shoal::index
