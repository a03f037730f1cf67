#include "index/label_map.h"

#include "engine/common/assert.h"

namespace shoal::index {

void label_map::assign(label_t label, slot_t slot) {
  SHOAL_DEBUG_ASSERT(label != invalid_label, "invalid_label cannot be stored");
  grow_if_needed();
  for (size_t i = home(label);; i = (i + 1) & mask_) {
    entry& e = table_[i];
    if (e.label == label) {
      e.slot = slot;
      return;
    }
    if (e.label == invalid_label) {
      e = {label, slot};
      ++size_;
      return;
    }
  }
}

bool label_map::insert(label_t label, slot_t slot) {
  if (contains(label)) return false;
  assign(label, slot);
  return true;
}

bool label_map::erase(label_t label) {
  if (table_.empty()) return false;
  size_t hole = home(label);
  for (;; hole = (hole + 1) & mask_) {
    if (table_[hole].label == label) break;
    if (table_[hole].label == invalid_label) return false;
  }
  // Backward shift: pull later entries of the probe run into the hole when their home allows,
  // so lookups never need tombstones.
  for (size_t next = (hole + 1) & mask_;; next = (next + 1) & mask_) {
    const entry& e = table_[next];
    if (e.label == invalid_label) break;
    const size_t want = home(e.label);
    // e may move to `hole` iff hole lies cyclically in [want, next).
    const bool movable =
        hole <= next ? (want <= hole || want > next) : (want <= hole && want > next);
    if (movable) {
      table_[hole] = e;
      hole = next;
    }
  }
  table_[hole] = entry{};
  --size_;
  return true;
}

void label_map::reserve(size_t entries) {
  size_t buckets = 64;
  while (buckets * 7 < entries * 10) buckets *= 2;
  if (buckets > table_.size()) rehash(buckets);
}

void label_map::clear() {
  table_.clear();
  mask_ = 0;
  size_ = 0;
}

void label_map::rehash(size_t buckets) {
  std::vector<entry> old;
  old.swap(table_);
  table_.assign(buckets, entry{});
  mask_ = buckets - 1;
  size_ = 0;
  for (const entry& e : old) {
    if (e.label != invalid_label) assign(e.label, e.slot);
  }
}

}  // namespace shoal::index
