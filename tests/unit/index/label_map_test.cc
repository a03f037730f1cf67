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

}  // namespace
}  // namespace shoal::index
