#include "index/mapped_array.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/random_vectors.h"

namespace shoal::index {
namespace {

// Random appends, resizes (both ways), pops and moves against std::vector as the reference,
// across many remapping growths: contents survive every move of the pages, and elements that
// come back after a shrink read as zero, as std::vector's do.
TEST(MappedArray, MatchesAVectorThroughGrowthAndShrink) {
  mapped_array<uint32_t> a;
  std::vector<uint32_t> ref;
  test::seeded_rng rng(7);
  uint32_t next = 1;
  for (int op = 0; op < 4000; ++op) {
    switch (rng.below(5)) {
      case 0:
      case 1: {
        size_t n = 1 + rng.below(3000);
        std::vector<uint32_t> v(n);
        for (auto& x : v) x = next++;
        a.append(v.data(), n);
        ref.insert(ref.end(), v.begin(), v.end());
        break;
      }
      case 2: {
        size_t n = rng.below(ref.size() + 5000);
        a.resize(n);
        ref.resize(n);
        break;
      }
      case 3: {
        size_t n = rng.below(ref.size() / 2 + 1);
        a.pop_back(n);
        ref.resize(ref.size() - n);
        break;
      }
      default: {
        mapped_array<uint32_t> moved(std::move(a));
        a = std::move(moved);
        break;
      }
    }
    ASSERT_EQ(a.size(), ref.size());
    ASSERT_GE(a.capacity(), a.size());
    if (op % 50 == 0 || a.size() < 100) {
      for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(a[i], ref[i]) << "op " << op << " at " << i;
    }
  }
  EXPECT_GT(ref.size(), 0u);
}

TEST(MappedArray, GrowthAtLeastDoublesAndKeepsThePrefix) {
  mapped_array<float> a;
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.capacity(), 0u);
  size_t growths = 0, last_capacity = 0;
  for (int i = 0; i < 3'000'000; ++i) {
    a.push_back(static_cast<float>(i));
    if (a.capacity() != last_capacity) {
      if (last_capacity != 0) EXPECT_GE(a.capacity(), 2 * last_capacity);
      last_capacity = a.capacity();
      ++growths;
    }
  }
  EXPECT_LE(growths, 13u);  // one page, doubled up to 16 MiB
  for (int i = 0; i < 3'000'000; i += 997)
    ASSERT_EQ(a[static_cast<size_t>(i)], static_cast<float>(i));
  a.clear();
  EXPECT_TRUE(a.empty());
  a.resize(10);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(a[i], 0.0f);
}

}  // namespace
}  // namespace shoal::index
