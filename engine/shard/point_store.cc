#include "engine/shard/point_store.h"

#include "engine/common/assert.h"

namespace shoal::shard {

uint32_t point_store::find_or_insert(const data::point_id& id, bool& inserted) {
  auto [it, fresh] = ids_.try_emplace(id, 0);
  inserted = fresh;
  if (!fresh) return it->second;
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    SHOAL_ASSERT(records_.size() < UINT32_MAX, "shard point slots exhausted");
    slot = static_cast<uint32_t>(records_.size());
    records_.emplace_back();
  }
  it->second = slot;
  auto& r = records_[slot];
  r = point_record{};
  r.set_id(id);
  r.live = true;
  return slot;
}

bool point_store::insert_at(uint32_t slot, point_record record) {
  // Snapshots list points in id order, so the hint makes each insert O(1).
  size_t before = ids_.size();
  ids_.emplace_hint(ids_.end(), record.id(), slot);
  if (ids_.size() == before) return false;
  if (records_.size() <= slot) records_.resize(slot + 1);
  record.live = true;
  if (record.payload) payload_bytes_ += record.payload->heap_bytes() + sizeof(data::json_value);
  records_[slot] = std::move(record);
  return true;
}

void point_store::set_sparse(uint32_t slot, std::string json) {
  SHOAL_DEBUG_ASSERT(live(slot), "sparse vectors for a free slot {}", slot);
  if (json.empty()) {
    sparse_.erase(slot);
  } else {
    sparse_.insert_or_assign(slot, std::move(json));
  }
}

void point_store::finish_loading() {
  free_.clear();
  for (uint32_t s = static_cast<uint32_t>(records_.size()); s-- > 0;) {
    if (!records_[s].live) free_.push_back(s);
  }
}

void point_store::erase(uint32_t slot) {
  auto& r = records_[slot];
  SHOAL_ASSERT(r.live, "erasing a free slot {}", slot);
  ids_.erase(r.id());
  if (!sparse_.empty()) sparse_.erase(slot);
  if (r.payload)
    payload_bytes_ -= std::min(payload_bytes_, r.payload->heap_bytes() + sizeof(data::json_value));
  r = point_record{};
  free_.push_back(slot);
}

size_t point_store::memory_usage() const {
  // B-tree leaves hold many entries; count the entry and a quarter for the nodes' slack.
  size_t entry = sizeof(std::pair<data::point_id, uint32_t>);
  return ids_.size() * (entry + entry / 4) + records_.capacity() * sizeof(point_record) +
         free_.capacity() * sizeof(uint32_t) + payload_bytes_ +
         sparse_.capacity() * (sizeof(std::pair<uint32_t, std::string>) + 1);
}

}  // namespace shoal::shard
