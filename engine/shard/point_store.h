#pragma once
// The points of one shard: id -> slot (ordered, for scroll), and per slot the point's id,
// version, payload and which vectors it has. A slot is also the point's label in every vector
// index of the shard; freed slots are reused. Lives on the shard's core.
//
// The id map is Abseil's B-tree: ordered like std::map but about 35 bytes per point instead of
// about 80 (a red-black node per point), which matters at a billion points' scale of memory.

#include <absl/container/btree_map.h>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/json_value.h"
#include "engine/data/point_id.h"

namespace shoal::shard {

struct point_record {
  data::point_id id;
  uint64_t version = 0;                       // LSN of the last write that touched it
  std::unique_ptr<data::json_value> payload;  // null: no payload
  std::unique_ptr<std::string> sparse_json;   // null: no sparse vectors
  uint32_t vector_mask = 0;                   // bit i: has the collection's i-th vector
  bool live = false;
};

class point_store {
 public:
  std::optional<uint32_t> find(const data::point_id& id) const {
    auto it = ids_.find(id);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  /// The slot of `id`, created (empty record) if absent.
  uint32_t find_or_insert(const data::point_id& id, bool& inserted);
  /// Puts a point at a given slot (snapshot loading); false if its id is already present.
  bool insert_at(uint32_t slot, point_record record);
  void erase(uint32_t slot);

  point_record& at(uint32_t slot) { return records_[slot]; }
  const point_record& at(uint32_t slot) const { return records_[slot]; }
  bool live(uint32_t slot) const { return slot < records_.size() && records_[slot].live; }
  size_t size() const { return ids_.size(); }
  size_t slot_count() const { return records_.size(); }
  /// Rebuilds the free list after insert_at() calls.
  void finish_loading();

  /// Points in id order from `from` (inclusive).
  auto begin_at(const data::point_id& from) const { return ids_.lower_bound(from); }
  auto begin() const { return ids_.begin(); }
  auto end() const { return ids_.end(); }

  /// Approximate bytes: map nodes, records, payloads.
  size_t memory_usage() const;
  size_t& payload_bytes() { return payload_bytes_; }

 private:
  absl::btree_map<data::point_id, uint32_t> ids_;
  std::vector<point_record> records_;
  std::vector<uint32_t> free_;
  size_t payload_bytes_ = 0;
};

}  // namespace shoal::shard
