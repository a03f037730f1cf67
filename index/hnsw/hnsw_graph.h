#pragma once
// HNSW node storage (PRACTICES A12): fixed-size level-0 records in fixed-size chunks, plus a
// small per-node array for the rare nodes that live on upper levels.
//
// Chunks (16-32 MiB, a power of two of slots each) rather than one block: growing never
// copies the graph (a copy of a large graph would stall its core for hundreds of milliseconds
// and briefly need twice the memory), and unused capacity is at most one chunk. A record's
// address is one shift, one mask and one load from a small table that stays in cache.
//
// Level-0 record (stride bytes, 64-byte aligned, one per slot):
//   0           u32 link count (level 0)
//   4           u32 links[max_links0]
//   meta_at     u64 label, f32 correction, u8 state (0 free, 1 live), u8 level, u16 reserved
//   payload_at  float[dim] or int8[dim]     (payload_at = align64(4 + 4 * max_links0 + 16),
//                                            meta_at = payload_at - 16)
// The metadata a traversal needs for every visited node (state, label for the filter, the int8
// correction term) shares the cache line just before the vector, so visiting a node touches
// the payload lines plus one; the neighbour list is only read for nodes that get expanded.
// The correction is a per-vector term of the int8 distance (quantization/int8_quantizer.h).
// Upper level l (1..level) of a node: u32 count followed by u32 links[max_links], in one
// heap array per node (nullptr for level-0-only nodes, ~1 - 1/M of them).
//
// Owned by hnsw_index, which is owned by one core; nothing here is synchronised.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "engine/common/assert.h"
#include "index/types.h"

namespace shoal::index {

enum class slot_state : uint8_t { free = 0, live = 1 };

class hnsw_graph {
 public:
  static constexpr size_t kMaxLevel = 31;

  /// payload_bytes: bytes of one node's traversal vector (dim * 4 or dim).
  hnsw_graph(size_t max_links, size_t payload_bytes);
  hnsw_graph(const hnsw_graph&) = delete;
  hnsw_graph& operator=(const hnsw_graph&) = delete;

  size_t max_links(unsigned level) const { return level == 0 ? max_links0_ : max_links_; }
  size_t max_links0() const { return max_links0_; }
  size_t stride() const { return stride_; }
  size_t payload_bytes() const { return payload_bytes_; }
  size_t payload_offset() const { return payload_at_; }

  /// Slots allocated so far (live + free); slot ids are < slot_count().
  size_t slot_count() const { return slot_count_; }
  size_t capacity() const { return capacity_; }
  void reserve(size_t slots);
  /// Appends a zeroed (free) slot, growing the block geometrically; returns its id.
  slot_t append_slot();

  std::byte* record(slot_t s) {
    return chunks_[s >> chunk_bits_].get() + size_t{s & chunk_mask_} * stride_;
  }
  const std::byte* record(slot_t s) const {
    return chunks_[s >> chunk_bits_].get() + size_t{s & chunk_mask_} * stride_;
  }

  slot_state state(slot_t s) const {
    return static_cast<slot_state>(uint8_t(record(s)[meta_at_ + 12]));
  }
  bool is_live(slot_t s) const { return state(s) == slot_state::live; }
  void set_state(slot_t s, slot_state v) { record(s)[meta_at_ + 12] = static_cast<std::byte>(v); }
  unsigned level(slot_t s) const { return static_cast<unsigned>(record(s)[meta_at_ + 13]); }
  label_t label(slot_t s) const {
    label_t l;
    std::memcpy(&l, record(s) + meta_at_, sizeof l);
    return l;
  }
  void set_label(slot_t s, label_t l) { std::memcpy(record(s) + meta_at_, &l, sizeof l); }
  float correction(slot_t s) const {
    float c;
    std::memcpy(&c, record(s) + meta_at_ + 8, sizeof c);
    return c;
  }
  void set_correction(slot_t s, float c) { std::memcpy(record(s) + meta_at_ + 8, &c, sizeof c); }
  const std::byte* payload(slot_t s) const { return record(s) + payload_at_; }
  std::byte* payload(slot_t s) { return record(s) + payload_at_; }

  /// Links of slot s at `level`: count and array (level <= level(s)).
  uint32_t link_count(slot_t s, unsigned lvl) const { return *count_ptr(s, lvl); }
  const slot_t* links(slot_t s, unsigned lvl) const { return links_ptr(s, lvl); }
  void set_links(slot_t s, unsigned lvl, const slot_t* ids, size_t n);
  /// Appends one link if there is room; returns false when the list is full.
  bool append_link(slot_t s, unsigned lvl, slot_t id);
  /// Removes `id` from the list if present (order not kept); returns whether it was there.
  bool remove_link(slot_t s, unsigned lvl, slot_t id);

  /// Makes s a live node of `level` with no links (allocates its upper levels).
  void init_node(slot_t s, unsigned level, label_t label);
  /// Returns s to the free state: no links, no upper levels.
  void clear_node(slot_t s);

  /// Prefetches a node's whole level-0 link list (it spans several cache lines).
  void prefetch_links(slot_t s) const {
    const char* p = reinterpret_cast<const char*>(record(s));
    for (size_t at = 0; at < links_bytes_; at += 64) __builtin_prefetch(p + at);
  }
  /// Prefetches the metadata line and the first `lines` cache lines of a payload.
  void prefetch_payload(slot_t s, size_t lines) const {
    const char* p = reinterpret_cast<const char*>(payload(s));
    __builtin_prefetch(p - 64);
    for (size_t i = 0; i < lines; ++i) __builtin_prefetch(p + 64 * i);
  }

  /// Upper-level storage of s (level(s) * (1 + max_links) u32), for serialization.
  const uint32_t* upper(slot_t s) const { return upper_[s].get(); }
  uint32_t* upper(slot_t s) { return upper_[s].get(); }
  size_t upper_words(unsigned level) const { return size_t{level} * (1 + max_links_); }
  /// Installs a loaded upper-level array for s (whose record already holds its level).
  void adopt_upper(slot_t s, std::unique_ptr<uint32_t[]> links);
  /// Serialization: the records of slots [0, slot_count()) are the concatenation of the used
  /// parts of chunks 0..used_chunks()-1.
  size_t used_chunks() const { return (slot_count_ + chunk_mask_) >> chunk_bits_; }
  std::span<const std::byte> chunk_bytes(size_t i) const {
    size_t first = i << chunk_bits_;
    size_t n = std::min<size_t>(chunk_slots(), slot_count_ - first);
    return {chunks_[i].get(), n * stride_};
  }
  size_t chunk_slots() const { return size_t{1} << chunk_bits_; }
  /// Resizes to exactly `slots` zeroed slots (loading).
  void reset(size_t slots);

  size_t memory_usage() const;
  /// Bytes of record chunks mapped directly (not through malloc) by all graphs of the process:
  /// what a malloc-based measure of memory must add.
  static size_t mapped_bytes();

 private:
  struct chunk_free {
    size_t bytes;
    bool mapped;  // munmap (a huge-page chunk) rather than free
    void operator()(std::byte* p) const;
  };
  using chunk_ptr = std::unique_ptr<std::byte, chunk_free>;
  static chunk_ptr allocate_records(size_t bytes);

  const uint32_t* count_ptr(slot_t s, unsigned lvl) const {
    if (lvl == 0) return reinterpret_cast<const uint32_t*>(record(s));
    return upper_[s].get() + size_t{lvl - 1} * (1 + max_links_);
  }
  uint32_t* count_ptr(slot_t s, unsigned lvl) {
    return const_cast<uint32_t*>(std::as_const(*this).count_ptr(s, lvl));
  }
  const slot_t* links_ptr(slot_t s, unsigned lvl) const { return count_ptr(s, lvl) + 1; }
  slot_t* links_ptr(slot_t s, unsigned lvl) {
    return const_cast<slot_t*>(std::as_const(*this).links_ptr(s, lvl));
  }
  void grow(size_t slots);
  void add_chunk();
  void release_upper(slot_t s);

  size_t max_links_;
  size_t max_links0_;
  size_t payload_bytes_;
  size_t meta_at_;
  size_t links_bytes_;  // count + level-0 links
  size_t payload_at_;
  size_t stride_;
  size_t slot_count_ = 0;
  size_t capacity_ = 0;
  unsigned chunk_bits_;
  uint32_t chunk_mask_;
  std::vector<chunk_ptr> chunks_;
  std::vector<std::unique_ptr<uint32_t[]>> upper_;
  size_t upper_nodes_ = 0;  // nodes with level > 0, for memory accounting
  size_t upper_words_total_ = 0;
};

}  // namespace shoal::index
