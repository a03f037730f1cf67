#pragma once
// An epoch-tagged visited set (PRACTICES A12, P12): one 16-bit tag per slot; a slot is visited
// when its tag equals the current epoch. Starting a new query bumps the epoch, so clearing is
// O(1) except once every 65,535 queries, when the tags are zeroed.
// Owned by a search_scratch, i.e. by one core; never shared.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/types.h"

namespace shoal::index {

class visited_set {
 public:
  /// Starts a new query over slots [0, slots).
  void begin(size_t slots) {
    if (tags_.size() < slots) tags_.resize(slots + slots / 8 + 64, 0);
    if (++epoch_ == 0) {
      std::fill(tags_.begin(), tags_.end(), uint16_t{0});
      epoch_ = 1;
    }
  }
  bool contains(slot_t s) const { return tags_[s] == epoch_; }
  /// Marks s; returns true when it was not marked yet.
  bool insert(slot_t s) {
    if (tags_[s] == epoch_) return false;
    tags_[s] = epoch_;
    return true;
  }
  void prefetch(slot_t s) const { __builtin_prefetch(tags_.data() + s); }
  size_t memory_usage() const { return tags_.capacity() * sizeof(uint16_t); }

 private:
  std::vector<uint16_t> tags_;
  uint16_t epoch_ = 0;
};

}  // namespace shoal::index
