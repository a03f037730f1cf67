#include "index/topk.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/random_vectors.h"

namespace shoal::index {
namespace {

TEST(TopK, KeepsTheSmallestAndBreaksTiesByLabel) {
  topk_collector top(3);
  top.push(2.0f, 10);
  top.push(1.0f, 30);
  top.push(1.0f, 20);
  top.push(1.0f, 25);  // ties 1.0 with 20 and 30; 30 is the worst tie and leaves
  top.push(5.0f, 1);   // worse than everything kept
  std::vector<neighbor> out(3);
  ASSERT_EQ(top.extract_sorted(out), 3u);
  EXPECT_EQ(out[0], (neighbor{1.0f, 20}));
  EXPECT_EQ(out[1], (neighbor{1.0f, 25}));
  EXPECT_EQ(out[2], (neighbor{1.0f, 30}));
  EXPECT_EQ(top.size(), 0u);
}

TEST(TopK, MatchesSortingForRandomInput) {
  test::seeded_rng rng(5);
  for (size_t k : {1u, 7u, 50u}) {
    std::vector<neighbor> all;
    topk_collector top(k);
    for (label_t l = 0; l < 1000; ++l) {
      float d = static_cast<float>(rng.below(100));  // many ties
      all.push_back({d, l});
      top.push(d, l);
    }
    std::sort(all.begin(), all.end());
    std::vector<neighbor> out(k);
    ASSERT_EQ(top.extract_sorted(out), k);
    for (size_t i = 0; i < k; ++i) EXPECT_EQ(out[i], all[i]) << i;
  }
}

TEST(TopK, ZeroKAndThreshold) {
  topk_collector top(0);
  EXPECT_FALSE(top.push(1.0f, 1));
  topk_collector two(2);
  EXPECT_EQ(two.threshold(), std::numeric_limits<float>::infinity());
  two.push(3.0f, 1);
  two.push(4.0f, 2);
  EXPECT_EQ(two.threshold(), 4.0f);
}

TEST(TopK, MergesSortedListsWithTiesAndPadding) {
  std::vector<neighbor> a = {{1.0f, 5}, {3.0f, 1}, {}};
  std::vector<neighbor> b = {{1.0f, 2}, {2.0f, 9}};
  std::vector<neighbor> c;
  std::span<const neighbor> lists[] = {a, b, c};
  std::vector<neighbor> out(10);
  ASSERT_EQ(merge_topk(lists, 3, out), 3u);
  EXPECT_EQ(out[0], (neighbor{1.0f, 2}));
  EXPECT_EQ(out[1], (neighbor{1.0f, 5}));
  EXPECT_EQ(out[2], (neighbor{2.0f, 9}));
  ASSERT_EQ(merge_topk(lists, 10, out), 4u);
}

}  // namespace
}  // namespace shoal::index
