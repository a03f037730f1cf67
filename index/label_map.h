#pragma once
// label -> slot, in one of two layouts:
//  - dense: a plain array indexed by label, 4 bytes per possible label. Used while labels are
//    small integers that fill their range well (at most kDenseSlack possible labels per stored
//    one), which is what a shard passes: its point slots, dense and reused. Lookup is one load.
//  - hashed: an open-addressing table with linear probing and backward-shift deletion (no
//    tombstones, so heavy churn never degrades it). 16 bytes per bucket at a load of at most
//    0.7, about half of what std::unordered_map spends per entry, one cache line per lookup.
// A map starts dense, turns hashed when a label would make the array too sparse, and turns
// dense again when the table must grow and its labels (the largest ever stored, a bound kept
// on insert) have become dense enough, as when a dense set arrives in random order. invalid_label
// marks an empty bucket, which is why the indexes refuse it as a label. Owned by one index (one
// core); not synchronised.

#include <algorithm>
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
    if (dense_) return label < direct_.size() ? direct_[label] : invalid_slot;
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
    if (dense_) {
      if (label < direct_.size()) __builtin_prefetch(&direct_[label]);
    } else if (!table_.empty()) {
      __builtin_prefetch(&table_[home(label)]);
    }
  }

  /// Inserts or overwrites.
  void assign(label_t label, slot_t slot);
  /// Inserts; false (and no change) when the label is present.
  bool insert(label_t label, slot_t slot);
  /// Removes; false when absent.
  bool erase(label_t label);
  /// Room for `entries` labels (in the dense layout: labels below `entries`).
  void reserve(size_t entries);
  void clear();
  bool is_dense() const { return dense_; }

  size_t memory_usage() const {
    return direct_.capacity() * sizeof(slot_t) + table_.capacity() * sizeof(entry);
  }

  /// The dense layout allows up to this many possible labels per stored label (and always the
  /// first kDenseFloor labels): 4 bytes * 4 = 16, never worse than the table's 23 to 46.
  static constexpr size_t kDenseSlack = 4;
  static constexpr size_t kDenseFloor = size_t{1} << 16;

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
  bool dense_fits(label_t label, size_t entries) const {
    return label < std::max(kDenseFloor, kDenseSlack * entries);
  }
  void assign_dense(label_t label, slot_t slot);
  void assign_hashed(label_t label, slot_t slot);
  void convert_to_hashed();
  void convert_to_dense();
  /// Before inserting `incoming` into the table: grows it, or turns the map dense.
  void grow_if_needed(label_t incoming);

  bool dense_ = true;
  std::vector<slot_t> direct_;  // dense: slot per label, invalid_slot when absent
  std::vector<entry> table_;    // hashed
  size_t mask_ = 0;
  label_t max_label_ = 0;  // hashed: no stored label is larger (not lowered on erase)
  size_t size_ = 0;
};

}  // namespace shoal::index
