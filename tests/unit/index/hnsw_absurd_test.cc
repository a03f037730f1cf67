// Absurd parameters (PRACTICES A18): dim 1, M 2, ef < k, k larger than the index, empty index,
// duplicate labels, exact duplicates, bad configs and bad queries.
#include <gtest/gtest.h>

#include "index/errc.h"
#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_invariants.h"
#include "tests/unit/index/index_test_util.h"

namespace shoal::index {
namespace {

std::unique_ptr<hnsw_index> make(size_t dim, size_t m, size_t efc,
                                 quantization_kind q = quantization_kind::none) {
  hnsw_config c;
  c.dim = dim;
  c.m = m;
  c.ef_construction = efc;
  c.quantization = q;
  c.quantization_train_size = 100;
  auto r = hnsw_index::create(c);
  EXPECT_TRUE(r) << describe(r.error());
  return std::move(r).value();
}

TEST(HnswAbsurd, DimensionOneAndMTwo) {
  for (auto q : {quantization_kind::none, quantization_kind::int8}) {
    // ef_construction 1 as well: a poor graph, but a sound one that search can still use.
    auto crude = make(1, 2, 1, q);
    test_util::add_all(*crude, test_util::make_dataset(test::uniform_vectors(500, 1, 70), 1));
    EXPECT_TRUE(check_invariants(*crude).ok());
    std::vector<neighbor> few(5);
    const float zero[1] = {0.0f};
    EXPECT_EQ(crude->search(zero, 5, few).value(), 5u);

    auto index = make(1, 2, 32, q);
    auto data = test_util::make_dataset(test::uniform_vectors(3000, 1, 71, -100, 100), 1);
    test_util::add_all(*index, data);
    auto report = check_invariants(*index);
    EXPECT_TRUE(report.ok()) << report.summary();
    search_params params;
    params.ef = 50;
    auto r = test_util::measure_recall(*index, data, test::uniform_vectors(50, 1, 72, -100, 100), 5,
                                       params);
    // One dimension leaves int8 only 255 codes for 3,000 distinct values: a dozen points share
    // each code, so the walk sees long runs of ties (rescoring still orders what it finds).
    EXPECT_GE(r.recall, q == quantization_kind::none ? 0.9 : 0.5) << to_string(q);
    EXPECT_EQ(r.short_answers, 0u);
  }
}

TEST(HnswAbsurd, EfBelowKAndKAboveSize) {
  auto index = make(4, 4, 10);
  auto data = test_util::make_dataset(test::uniform_vectors(50, 4, 73), 4);
  test_util::add_all(*index, data);
  std::vector<neighbor> out(100);
  search_params params;
  params.ef = 1;  // raised to k internally
  auto n = index->search({data.row(0), 4}, 20, out, params);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 20u);
  EXPECT_EQ(out[0].label, data.labels[0]);
  n = index->search({data.row(0), 4}, 100, out, params);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 50u);  // all of them, and the rest marked empty
  EXPECT_EQ(out[50].label, invalid_label);
  EXPECT_EQ(index->search({data.row(0), 4}, 0, out).value(), 0u);
  // An output span shorter than k is a caller error, not a write past its end.
  EXPECT_EQ(index->search({data.row(0), 4}, 10, {out.data(), 5}).error(), errc::bad_parameter);
}

TEST(HnswAbsurd, EmptyIndex) {
  auto index = make(3, 16, 200);
  std::vector<neighbor> out(5);
  const float q[3] = {0, 0, 0};
  EXPECT_EQ(index->search(q, 5, out).value(), 0u);
  EXPECT_EQ(out[0].label, invalid_label);
  EXPECT_EQ(index->remove(1).error(), errc::label_not_found);
  EXPECT_EQ(index->size(), 0u);
  size_t labels = 0;
  index->for_each_label([&](label_t) { ++labels; });
  EXPECT_EQ(labels, 0u);
  EXPECT_TRUE(check_invariants(*index).ok());
}

TEST(HnswAbsurd, DuplicateLabelsAndDuplicateVectors) {
  auto index = make(2, 4, 16);
  const label_t dup[3] = {1, 2, 1};
  const float v[6] = {0, 0, 1, 1, 2, 2};
  EXPECT_EQ(index->add_batch(dup, v).error(), errc::duplicate_label);
  EXPECT_EQ(index->size(), 0u) << "a rejected batch changes nothing";
  // Many identical vectors: every one of them must still be findable.
  std::vector<label_t> labels;
  std::vector<float> same;
  for (label_t l = 0; l < 300; ++l) {
    labels.push_back(l);
    same.push_back(1.0f);
    same.push_back(-1.0f);
  }
  ASSERT_TRUE(index->add_batch(labels, same));
  std::vector<neighbor> out(300);
  const float q[2] = {1.0f, -1.0f};
  auto n = index->search(q, 300, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 300u);
  for (size_t i = 0; i < 300; ++i) EXPECT_EQ(out[i].label, i) << "ties ordered by label";
  EXPECT_TRUE(check_invariants(*index).ok());
}

TEST(HnswAbsurd, BadConfigsAndQueries) {
  hnsw_config c;
  EXPECT_FALSE(c.validate());  // dim 0
  c.dim = 4;
  EXPECT_TRUE(c.validate());
  c.m = 1;
  EXPECT_FALSE(c.validate());
  c.m = 16;
  c.ef_construction = 0;
  EXPECT_FALSE(c.validate());
  c.ef_construction = 10;
  c.quantization_quantile = 0.2f;
  EXPECT_FALSE(c.validate());
  EXPECT_EQ(hnsw_index::create(c).error(), errc::bad_parameter);

  auto index = make(4, 4, 10, quantization_kind::none);
  const float nan[4] = {1, 2, NAN, 4};
  const float inf[4] = {1, 2, INFINITY, 4};
  EXPECT_EQ(index->add(1, nan).error(), errc::non_finite_value);
  EXPECT_EQ(index->add(1, inf).error(), errc::non_finite_value);
  EXPECT_EQ(index->add(invalid_label, std::vector<float>(4, 1.0f)).error(), errc::bad_parameter);
  std::vector<neighbor> out(3);
  EXPECT_EQ(index->search(nan, 3, out).error(), errc::non_finite_value);
  EXPECT_EQ(index->search(std::vector<float>(3, 1.0f), 3, out).error(), errc::dimension_mismatch);
}

TEST(HnswAbsurd, CosineRejectsZeroVectors) {
  hnsw_config c;
  c.dim = 3;
  c.metric = metric_kind::cosine;
  auto index = hnsw_index::create(c).value();
  const float zero[3] = {0, 0, 0};
  EXPECT_EQ(index->add(1, zero).error(), errc::zero_vector);
  std::vector<neighbor> out(1);
  EXPECT_EQ(index->search(zero, 1, out).error(), errc::zero_vector);
}

TEST(HnswAbsurd, BatchSearchMatchesSingleSearch) {
  auto index = make(8, 8, 50);
  auto data = test_util::make_dataset(test::gaussian_vectors(500, 8, 74), 8);
  test_util::add_all(*index, data);
  auto queries = test::gaussian_vectors(7, 8, 75);
  std::vector<neighbor> batch(7 * 4), one(4);
  std::vector<size_t> counts(7);
  ASSERT_TRUE(index->search_batch(queries, 4, batch, counts));
  for (size_t q = 0; q < 7; ++q) {
    ASSERT_EQ(index->search({queries.data() + q * 8, 8}, 4, one).value(), counts[q]);
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(batch[q * 4 + i], one[i]);
  }
  EXPECT_GT(index->memory_usage(), 500u * 8 * sizeof(float));
}

}  // namespace
}  // namespace shoal::index
