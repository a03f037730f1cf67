#pragma once
// The points of one shard: id -> slot (ordered, for scroll), and per slot the point's id,
// version, payload and which vectors it has. A slot is also the point's label in every vector
// index of the shard; freed slots are reused. Lives on the shard's core.
//
// The id map is Abseil's B-tree: ordered like std::map but about 35 bytes per point instead of
// about 80 (a red-black node per point), which matters at a billion points' scale of memory.

#include <absl/container/btree_map.h>
#include <absl/container/flat_hash_map.h>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/json_value.h"
#include "engine/data/point_id.h"
#include "engine/shard/replica_digest.h"

namespace shoal::shard {

// 40 bytes: a point_id would take 24 (its kind flag pads to 8), so the record keeps the id's
// words and packs the flag with the others; sparse vectors, which few points have, live in a
// side table of the store rather than a pointer in every record.
struct point_record {
  uint64_t id_hi = 0;
  uint64_t id_lo = 0;
  uint64_t version = 0;                       // LSN of the last write that touched it
  std::unique_ptr<data::json_value> payload;  // null: no payload
  uint32_t vector_mask = 0;                   // bit i: has the collection's i-th vector
  bool live = false;
  bool id_is_uuid = false;

  data::point_id id() const {
    return id_is_uuid ? data::point_id::uuid(id_hi, id_lo) : data::point_id::number(id_lo);
  }
  void set_id(const data::point_id& id) {
    id_hi = id.hi();
    id_lo = id.lo();
    id_is_uuid = id.is_uuid();
  }
};
static_assert(sizeof(point_record) == 40, "point_record grew: it is paid once per point");

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
  /// Sparse vectors of a live slot as given (JSON), or null.
  const std::string* sparse(uint32_t slot) const {
    if (sparse_.empty()) return nullptr;
    auto it = sparse_.find(slot);
    return it == sparse_.end() ? nullptr : &it->second;
  }
  /// Sets (empty: clears) the sparse vectors of a live slot.
  void set_sparse(uint32_t slot, std::string json);

  /// Rebuilds the free list after insert_at() calls.
  void finish_loading();

  /// Points in id order from `from` (inclusive).
  auto begin_at(const data::point_id& from) const { return ids_.lower_bound(from); }
  auto begin() const { return ids_.begin(); }
  auto end() const { return ids_.end(); }

  /// Approximate bytes: map nodes, records, payloads.
  size_t memory_usage() const;
  size_t& payload_bytes() { return payload_bytes_; }
  /// The order-independent checksum of the live points (replica_digest.h). The store does not
  /// see vectors, so whoever changes a point keeps this up to date: the shard's apply
  /// subtracts the point's hash before a change and adds it after; snapshot loading sets it.
  replica_checksum& checksum() { return checksum_; }
  const replica_checksum& checksum() const { return checksum_; }

 private:
  absl::btree_map<data::point_id, uint32_t> ids_;
  std::vector<point_record> records_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<uint32_t, std::string> sparse_;
  size_t payload_bytes_ = 0;
  replica_checksum checksum_;
};

}  // namespace shoal::shard
