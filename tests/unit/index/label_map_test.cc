#include "index/label_map.h"

#include <unordered_map>

#include <gtest/gtest.h>

#include "tests/support/random_vectors.h"

namespace shoal::index {
namespace {

// Random inserts, overwrites and erases (with many collisions: a small key space) against
// std::unordered_map as the reference; backward-shift deletion must keep every lookup right.
TEST(LabelMap, MatchesAReferenceUnderChurn) {
  label_map map;
  std::unordered_map<label_t, slot_t> ref;
  test::seeded_rng rng(81);
  for (int op = 0; op < 200000; ++op) {
    const label_t key = rng.below(5000) * 0x10001ull;  // strided keys stress the hash mix
    switch (rng.below(3)) {
      case 0: {
        const auto slot = static_cast<slot_t>(rng.below(1000000));
        map.assign(key, slot);
        ref[key] = slot;
        break;
      }
      case 1: {
        const auto slot = static_cast<slot_t>(rng.below(1000000));
        EXPECT_EQ(map.insert(key, slot), ref.emplace(key, slot).second);
        break;
      }
      default:
        EXPECT_EQ(map.erase(key), ref.erase(key) == 1);
        break;
    }
    if (op % 1000 == 0) {
      ASSERT_EQ(map.size(), ref.size());
      for (label_t k = 0; k < 5000; ++k) {
        auto it = ref.find(k * 0x10001ull);
        ASSERT_EQ(map.find(k * 0x10001ull), it == ref.end() ? invalid_slot : it->second);
      }
    }
  }
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.find(0), invalid_slot);
  EXPECT_FALSE(map.erase(0));
}

// A shard's labels are its point slots: small, dense, reused. They stay in the array layout
// (4 bytes a label) under churn and agree with the reference throughout.
TEST(LabelMap, DenseLabelsStayInTheArrayLayout) {
  label_map map;
  std::unordered_map<label_t, slot_t> ref;
  test::seeded_rng rng(82);
  for (int op = 0; op < 300000; ++op) {
    const label_t key = rng.below(100000);
    if (rng.below(4) != 0) {
      const auto slot = static_cast<slot_t>(rng.below(1000000));
      map.assign(key, slot);
      ref[key] = slot;
    } else {
      EXPECT_EQ(map.erase(key), ref.erase(key) == 1);
    }
  }
  EXPECT_TRUE(map.is_dense());
  ASSERT_EQ(map.size(), ref.size());
  for (label_t k = 0; k < 100001; ++k) {
    auto it = ref.find(k);
    ASSERT_EQ(map.find(k), it == ref.end() ? invalid_slot : it->second) << k;
  }
  EXPECT_LE(map.memory_usage(), 8 * ref.size());
}

// One label far beyond the dense range turns the map hashed, keeping every entry; the map then
// behaves as before, and clear() makes it dense again.
TEST(LabelMap, ASparseLabelConvertsToTheHashedLayout) {
  label_map map;
  for (label_t l = 0; l < 1000; ++l) map.assign(l, static_cast<slot_t>(l * 3));
  EXPECT_TRUE(map.is_dense());
  map.assign(label_map::kDenseFloor * 1000, 7);  // sparse: 1001 entries over 65M labels
  EXPECT_FALSE(map.is_dense());
  EXPECT_EQ(map.size(), 1001u);
  for (label_t l = 0; l < 1000; ++l) ASSERT_EQ(map.find(l), static_cast<slot_t>(l * 3));
  EXPECT_EQ(map.find(label_map::kDenseFloor * 1000), 7u);
  EXPECT_EQ(map.find(1000), invalid_slot);
  EXPECT_TRUE(map.erase(5));
  EXPECT_EQ(map.find(5), invalid_slot);
  EXPECT_FALSE(map.insert(6, 1));
  map.clear();
  EXPECT_TRUE(map.is_dense());
  EXPECT_EQ(map.find(6), invalid_slot);
  map.assign(6, 2);
  EXPECT_EQ(map.find(6), 2u);
}

// Labels that grow past the floor stay dense while they fill their range (sequential ids).
TEST(LabelMap, SequentialLabelsPastTheFloorStayDense) {
  label_map map;
  const label_t n = label_map::kDenseFloor * 5;
  for (label_t l = 0; l < n; ++l) map.assign(l, static_cast<slot_t>(l));
  EXPECT_TRUE(map.is_dense());
  EXPECT_EQ(map.size(), n);
  EXPECT_EQ(map.find(n - 1), static_cast<slot_t>(n - 1));
  EXPECT_EQ(map.find(n), invalid_slot);
}

}  // namespace
}  // namespace shoal::index
