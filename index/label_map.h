#pragma once
// label -> slot: an open-addressing hash table with linear probing and backward-shift deletion
// (no tombstones, so heavy churn never degrades it). 16 bytes per bucket at a load of at most
// 0.7, about half of what std::unordered_map spends per entry, and one cache line per lookup.
// invalid_label marks an empty bucket, which is why the indexes refuse it as a label.
// Owned by one index (one core); not synchronised.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/types.h"

namespace shoal::index {

class label_map {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// The slot of `label`, or invalid_slot.
  slot_t find(label_t label) const {
    if (table_.empty()) return invalid_slot;
    for (size_t i = home(label);; i = (i + 1) & mask_) {
      const entry& e = table_[i];
      if (e.label == label) return e.slot;
      if (e.label == invalid_label) return invalid_slot;
    }
  }
  bool contains(label_t label) const { return find(label) != invalid_slot; }
  /// Starts fetching the bucket of `label` (batched lookups overlap their misses).
  void prefetch(label_t label) const {
    if (!table_.empty()) __builtin_prefetch(&table_[home(label)]);
  }

  /// Inserts or overwrites.
  void assign(label_t label, slot_t slot);
  /// Inserts; false (and no change) when the label is present.
  bool insert(label_t label, slot_t slot);
  /// Removes; false when absent.
  bool erase(label_t label);
  void reserve(size_t entries);
  void clear();

  size_t memory_usage() const { return table_.capacity() * sizeof(entry); }

 private:
  struct entry {
    label_t label = invalid_label;
    slot_t slot = invalid_slot;
  };

  size_t home(label_t label) const {
    // A strong 64-bit mix (the splitmix64 finaliser): labels are often sequential.
    uint64_t z = label;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<size_t>(z) & mask_;
  }
  void rehash(size_t buckets);
  void grow_if_needed() {
    if ((size_ + 1) * 10 > table_.size() * 7) rehash(table_.empty() ? 64 : table_.size() * 2);
  }

  std::vector<entry> table_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace shoal::index
