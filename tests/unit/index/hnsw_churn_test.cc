// Deletes, re-inserts and upserts: recall must not decay under churn, slots are reused, and the
// graph stays sound (checker after every phase).
#include <gtest/gtest.h>

#include "index/errc.h"
#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_invariants.h"
#include "tests/unit/index/index_test_util.h"

namespace shoal::index {
namespace {

using test_util::dataset;

std::unique_ptr<hnsw_index> make_hnsw(size_t dim, quantization_kind q) {
  hnsw_config c;
  c.dim = dim;
  c.metric = metric_kind::l2;
  c.quantization = q;
  c.ef_construction = 100;
  c.quantization_train_size = 1000;
  return hnsw_index::create(c).value();
}

class HnswChurn : public ::testing::TestWithParam<quantization_kind> {};

TEST_P(HnswChurn, RecallHoldsAfterThirtyPercentDeletesAndReinserts) {
  const size_t dim = 32, n = 6000, k = 10;
  auto all = test::embedding_like_vectors(2 * n, dim, 30, 8, 31);
  auto queries = test::embedding_like_vectors(100, dim, 30, 8, 31 ^ 0xff);
  auto index = make_hnsw(dim, GetParam());
  dataset live = test_util::make_dataset({all.begin(), all.begin() + n * dim}, dim);
  test_util::add_all(*index, live);
  search_params params;
  params.ef = 160;
  const double before = test_util::measure_recall(*index, live, queries, k, params).recall;
  EXPECT_GE(before, 0.95);

  // Three rounds: remove 30% (a random third), insert as many fresh points.
  test::seeded_rng rng(77);
  size_t fresh_at = n;
  label_t next_label = 10'000'000;
  for (int round = 0; round < 3; ++round) {
    const size_t removals = live.size() * 3 / 10;
    for (size_t r = 0; r < removals; ++r) {
      const size_t victim = rng.below(live.size());
      ASSERT_TRUE(index->remove(live.labels[victim]));
      live.labels[victim] = live.labels.back();
      std::copy(live.row(live.size() - 1), live.row(live.size() - 1) + dim,
                live.vectors.begin() + static_cast<ptrdiff_t>(victim * dim));
      live.labels.pop_back();
      live.vectors.resize(live.labels.size() * dim);
    }
    EXPECT_EQ(index->size(), live.size());
    EXPECT_EQ(index->free_slots(), removals);
    auto mid = check_invariants(*index);
    EXPECT_TRUE(mid.ok()) << mid.summary();
    for (size_t r = 0; r < removals; ++r, ++fresh_at) {
      const float* v = all.data() + (fresh_at % (2 * n)) * dim;
      ASSERT_TRUE(index->add(next_label, {v, dim}));
      live.labels.push_back(next_label++);
      live.vectors.insert(live.vectors.end(), v, v + dim);
    }
    EXPECT_EQ(index->free_slots(), 0u) << "freed slots are reused";
    EXPECT_EQ(index->graph().slot_count(), n) << "churn does not grow the slot array";
    auto report = check_invariants(*index);
    EXPECT_TRUE(report.ok()) << report.summary();
    EXPECT_GE(report.reachable_from_entry, live.size() * 99 / 100) << report.summary();
  }
  const double after = test_util::measure_recall(*index, live, queries, k, params).recall;

  EXPECT_GE(after, 0.94);
  // Measured: float32 loses ~0.01 and int8 ~0.03 over three rounds against the same data set
  // built fresh (0.99); re-selecting each neighbour's whole list instead (the first repair
  // tried) lost 0.05 at ef 100.
  const double allowed = GetParam() == quantization_kind::int8 ? 0.045 : 0.02;
  EXPECT_GE(after, before - allowed) << "recall decayed under churn";
}

TEST_P(HnswChurn, UpsertReplacesTheVector) {
  const size_t dim = 8;
  auto index = make_hnsw(dim, GetParam());
  dataset data = test_util::make_dataset(test::uniform_vectors(2000, dim, 41), dim);
  test_util::add_all(*index, data);
  std::vector<float> far(dim, 50.0f);
  ASSERT_TRUE(index->add(data.labels[5], far));
  EXPECT_EQ(index->size(), 2000u);
  std::vector<neighbor> out(1);
  auto n = index->search(far, 1, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(out[0].label, data.labels[5]);
  EXPECT_NEAR(out[0].distance, 0.0f, 1e-6f);
  std::vector<float> stored(dim);
  ASSERT_TRUE(index->get_vector(data.labels[5], stored));
  EXPECT_EQ(stored, far);
  auto report = check_invariants(*index);
  EXPECT_TRUE(report.ok()) << report.summary();
}

TEST_P(HnswChurn, RemovingEverythingAndStartingOver) {
  const size_t dim = 4;
  auto index = make_hnsw(dim, GetParam());
  dataset data = test_util::make_dataset(test::uniform_vectors(1500, dim, 43), dim);
  test_util::add_all(*index, data);
  for (label_t l : data.labels) ASSERT_TRUE(index->remove(l));
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->entry_point(), invalid_slot);
  EXPECT_EQ(index->remove(data.labels[0]).error(), errc::label_not_found);
  std::vector<neighbor> out(3);
  EXPECT_EQ(index->search({data.vectors.data(), dim}, 3, out).value(), 0u);
  test_util::add_all(*index, data);
  auto r = test_util::measure_recall(*index, data, test::uniform_vectors(20, dim, 44), 3);
  EXPECT_GE(r.recall, 0.95);
  EXPECT_TRUE(check_invariants(*index).ok());
}

INSTANTIATE_TEST_SUITE_P(Quantization, HnswChurn,
                         ::testing::Values(quantization_kind::none, quantization_kind::int8),
                         [](const auto& p) { return std::string(to_string(p.param)); });

}  // namespace
}  // namespace shoal::index
