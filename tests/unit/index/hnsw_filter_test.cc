// Filtered search at selectivities 0.1%, 1%, 10% and 50%: recall@10 >= 0.95 against the
// oracle over the matching points, and k results whenever k points match, with the filter
// given as a bare predicate and as a candidate list.
#include <gtest/gtest.h>

#include "index/hnsw/hnsw_index.h"
#include "tests/unit/index/index_test_util.h"

namespace shoal::index {
namespace {

// Accepts a seeded pseudo-random fraction of labels.
bool accepted(label_t label, double selectivity) {
  uint64_t z = (label + 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 < selectivity;
}

class fraction_filter final : public label_filter {
 public:
  fraction_filter(double selectivity, const std::vector<label_t>& labels, bool offer_list)
      : selectivity_(selectivity), offer_list_(offer_list) {
    for (label_t l : labels) {
      if (accepted(l, selectivity)) list_.push_back(l);
    }
  }
  bool matches(label_t label) const override { return accepted(label, selectivity_); }
  std::optional<std::span<const label_t>> candidate_labels() const override {
    if (!offer_list_) return std::nullopt;
    return std::span<const label_t>(list_);
  }
  size_t matching() const { return list_.size(); }

 private:
  double selectivity_;
  bool offer_list_;
  std::vector<label_t> list_;
};

struct filter_case {
  double selectivity;
  bool list;
};

class HnswFilter : public ::testing::TestWithParam<filter_case> {
 protected:
  static void SetUpTestSuite() {
    const size_t dim = 32, n = 20000;
    data_ = new test_util::dataset(
        test_util::make_dataset(test::embedding_like_vectors(n, dim, 40, 8, 51), dim));
    hnsw_config c;
    c.dim = dim;
    c.ef_construction = 100;
    index_ = hnsw_index::create(c).value().release();
    test_util::add_all(*index_, *data_);
  }
  static void TearDownTestSuite() {
    delete index_;
    delete data_;
  }
  static test_util::dataset* data_;
  static hnsw_index* index_;
};
test_util::dataset* HnswFilter::data_ = nullptr;
hnsw_index* HnswFilter::index_ = nullptr;

TEST_P(HnswFilter, RecallAndFullAnswersAtEverySelectivity) {
  const auto [selectivity, list] = GetParam();
  const size_t k = 10, dim = data_->dim;
  fraction_filter filter(selectivity, data_->labels, list);
  ASSERT_GE(filter.matching(), k) << "the data set must hold at least k matches";
  auto queries = test::embedding_like_vectors(60, dim, 40, 8, 51 ^ 0xff);
  search_params params;
  params.ef = 128;
  params.filter = &filter;
  auto r = test_util::measure_recall(*index_, *data_, queries, k, params,
                                     [&](label_t l) { return filter.matches(l); });
  EXPECT_GE(r.recall, 0.95) << "selectivity " << selectivity << (list ? " list" : " predicate");
  EXPECT_EQ(r.short_answers, 0u);
  // Every result matches the filter.
  std::vector<neighbor> out(k);
  for (size_t q = 0; q < 5; ++q) {
    auto n = index_->search({queries.data() + q * dim, dim}, k, out, params);
    ASSERT_TRUE(n);
    for (size_t i = 0; i < *n; ++i) EXPECT_TRUE(filter.matches(out[i].label));
  }
}

INSTANTIATE_TEST_SUITE_P(Selectivities, HnswFilter,
                         ::testing::Values(filter_case{0.001, false}, filter_case{0.001, true},
                                           filter_case{0.01, false}, filter_case{0.01, true},
                                           filter_case{0.1, false}, filter_case{0.1, true},
                                           filter_case{0.5, false}, filter_case{0.5, true}),
                         [](const auto& p) {
                           return "s" +
                                  std::to_string(static_cast<int>(p.param.selectivity * 1000)) +
                                  "permille_" + (p.param.list ? "list" : "predicate");
                         });

TEST_F(HnswFilter, ChoosesExactScanOnlyWhenSelective) {
  const size_t dim = data_->dim;
  auto q = test::embedding_like_vectors(1, dim, 40, 8, 99);
  std::vector<neighbor> out(10);
  search_scratch scratch;
  search_params params;
  params.ef = 64;
  fraction_filter rare(0.001, data_->labels, true), common(0.5, data_->labels, false);
  params.filter = &rare;
  ASSERT_TRUE(index_->search(q, 10, out, params, scratch));
  EXPECT_TRUE(scratch.last.exact_path);
  params.filter = &common;
  ASSERT_TRUE(index_->search(q, 10, out, params, scratch));
  EXPECT_FALSE(scratch.last.exact_path);
  EXPECT_LT(scratch.last.distance_computations, data_->size() / 2);
}

TEST_F(HnswFilter, FewerMatchesThanKReturnsAllOfThem) {
  const size_t dim = data_->dim;
  std::vector<label_t> three = {data_->labels[1], data_->labels[500], data_->labels[9000]};
  allow_list_filter filter(three);
  auto q = test::embedding_like_vectors(1, dim, 40, 8, 98);
  std::vector<neighbor> out(10);
  search_params params;
  params.filter = &filter;
  auto n = index_->search(q, 10, out, params);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(out[3].label, invalid_label);
  auto none = [](label_t) { return false; };
  predicate_filter<decltype(none)> nothing(none);
  params.filter = &nothing;
  EXPECT_EQ(*index_->search(q, 10, out, params), 0u);
}

}  // namespace
}  // namespace shoal::index
