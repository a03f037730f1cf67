#include "index/label_map.h"

#include "engine/common/assert.h"

namespace shoal::index {

void label_map::assign(label_t label, slot_t slot) {
  SHOAL_DEBUG_ASSERT(label != invalid_label, "invalid_label cannot be stored");
  SHOAL_DEBUG_ASSERT(slot != invalid_slot, "invalid_slot cannot be stored");
  if (dense_) {
    if (label < direct_.size() || dense_fits(label, size_ + 1)) return assign_dense(label, slot);
    convert_to_hashed();
  }
  assign_hashed(label, slot);
}

void label_map::assign_dense(label_t label, slot_t slot) {
  if (label >= direct_.size()) {
    // Grow geometrically (amortised O(1)), but never past what the slack rule allows.
    size_t want = std::max<size_t>(label + 1, direct_.size() * 3 / 2);
    want = std::min(want, std::max(kDenseFloor, kDenseSlack * (size_ + 1)));
    direct_.resize(std::max<size_t>(want, label + 1), invalid_slot);
  }
  slot_t& s = direct_[label];
  if (s == invalid_slot) ++size_;
  s = slot;
}

void label_map::convert_to_hashed() {
  std::vector<slot_t> old;
  old.swap(direct_);
  dense_ = false;
  size_ = 0;
  max_label_ = 0;
  size_t buckets = 64;
  size_t entries = 0;
  for (slot_t s : old) entries += s != invalid_slot;
  while (buckets * 7 < (entries + 1) * 10) buckets *= 2;
  table_.assign(buckets, entry{});
  mask_ = buckets - 1;
  for (size_t l = 0; l < old.size(); ++l) {
    if (old[l] != invalid_slot) assign_hashed(l, old[l]);
  }
}

void label_map::convert_to_dense() {
  std::vector<entry> old;
  old.swap(table_);
  mask_ = 0;
  dense_ = true;
  size_ = 0;
  direct_.assign(max_label_ + 1, invalid_slot);
  for (const entry& e : old) {
    if (e.label != invalid_label) assign_dense(e.label, e.slot);
  }
}

void label_map::grow_if_needed(label_t incoming) {
  if ((size_ + 1) * 10 <= table_.size() * 7) return;
  if (!table_.empty() && dense_fits(std::max(max_label_, incoming), size_ + 1)) {
    max_label_ = std::max(max_label_, incoming);
    return convert_to_dense();
  }
  rehash(table_.empty() ? 64 : table_.size() * 2);
}

void label_map::assign_hashed(label_t label, slot_t slot) {
  grow_if_needed(label);
  if (dense_) return assign_dense(label, slot);  // the growth turned the map dense
  max_label_ = std::max(max_label_, label);
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
  if (dense_) {
    if (label >= direct_.size() || direct_[label] == invalid_slot) return false;
    direct_[label] = invalid_slot;
    --size_;
    return true;
  }
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
  if (dense_) {
    direct_.reserve(std::max(entries, direct_.size()));
    return;
  }
  size_t buckets = 64;
  while (buckets * 7 < entries * 10) buckets *= 2;
  if (buckets > table_.size()) rehash(buckets);
}

void label_map::clear() {
  dense_ = true;
  direct_.clear();
  table_.clear();
  mask_ = 0;
  size_ = 0;
  max_label_ = 0;
}

void label_map::rehash(size_t buckets) {
  std::vector<entry> old;
  old.swap(table_);
  table_.assign(buckets, entry{});
  mask_ = buckets - 1;
  size_ = 0;
  for (const entry& e : old) {
    if (e.label != invalid_label) assign_hashed(e.label, e.slot);
  }
}

}  // namespace shoal::index
