#include "index/hnsw/hnsw_graph.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace shoal::index {
namespace {

size_t align_up(size_t v, size_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

hnsw_graph::hnsw_graph(size_t max_links, size_t payload_bytes)
    : max_links_(max_links), max_links0_(2 * max_links), payload_bytes_(payload_bytes) {
  payload_at_ = align_up(4 + 4 * max_links0_ + 16, 64);
  meta_at_ = payload_at_ - 16;
  links_bytes_ = 4 + 4 * max_links0_;
  stride_ = align_up(payload_at_ + payload_bytes_, 64);
  // About 4 MiB per chunk: 256 to 65,536 slots.
  const size_t want = std::max<size_t>(1, (size_t{4} << 20) / stride_);
  chunk_bits_ = 8;
  while (chunk_bits_ < 16 && (size_t{1} << (chunk_bits_ + 1)) <= want) ++chunk_bits_;
  chunk_mask_ = (uint32_t{1} << chunk_bits_) - 1;
}

namespace {

std::byte* allocate_records(size_t bytes) {
  // Walks touch records at random: with 4 KiB pages nearly every visit on a large graph also
  // misses the TLB. Allocations of 2 MiB and more are 2 MiB-aligned and asked to be backed by
  // transparent huge pages (honoured when THP is in "madvise" or "always" mode).
  constexpr size_t kHugePage = size_t{2} << 20;
  const bool huge = bytes >= kHugePage;
  const size_t alloc_bytes = huge ? align_up(bytes, kHugePage) : align_up(bytes, 64);
  auto* fresh = static_cast<std::byte*>(std::aligned_alloc(huge ? kHugePage : 64, alloc_bytes));
  if (fresh == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) ::madvise(fresh, alloc_bytes, MADV_HUGEPAGE);
#endif
  return fresh;
}

}  // namespace

void hnsw_graph::add_chunk() {
  // A small graph keeps one chunk and doubles it (copying a small chunk is cheap), so an index
  // of a few points does not hold megabytes; from a full chunk on, whole chunks are added and
  // nothing is copied again.
  if (chunks_.size() <= 1 && capacity_ < chunk_slots()) {
    size_t slots = std::min(chunk_slots(), std::max<size_t>(64, capacity_ * 2));
    auto* fresh = allocate_records(slots * stride_);
    if (!chunks_.empty() && slot_count_ > 0)
      std::memcpy(fresh, chunks_[0].get(), slot_count_ * stride_);
    chunks_.clear();
    chunks_.emplace_back(fresh);
    capacity_ = slots;
    return;
  }
  chunks_.emplace_back(allocate_records(chunk_slots() * stride_));
  capacity_ += chunk_slots();
}

void hnsw_graph::grow(size_t slots) {
  while (capacity_ < slots) add_chunk();
}

void hnsw_graph::reserve(size_t slots) {
  grow(slots);
  upper_.reserve(slots);
}

slot_t hnsw_graph::append_slot() {
  SHOAL_ASSERT(slot_count_ < invalid_slot - 1, "HNSW slot space exhausted");
  if (slot_count_ == capacity_) add_chunk();
  slot_t s = static_cast<slot_t>(slot_count_++);
  std::memset(record(s), 0, stride_);
  upper_.emplace_back();
  return s;
}

void hnsw_graph::reset(size_t slots) {
  chunks_.clear();
  capacity_ = 0;
  slot_count_ = 0;
  upper_.clear();
  upper_nodes_ = 0;
  upper_words_total_ = 0;
  grow(std::max<size_t>(slots, 1));
  slot_count_ = slots;
  for (size_t i = 0; i < used_chunks(); ++i) {
    std::memset(chunks_[i].get(), 0, chunk_bytes(i).size());
  }
  upper_.resize(slots);
}

void hnsw_graph::set_links(slot_t s, unsigned lvl, const slot_t* ids, size_t n) {
  SHOAL_DEBUG_ASSERT(n <= max_links(lvl), "too many links");
  *count_ptr(s, lvl) = static_cast<uint32_t>(n);
  if (n > 0) std::memcpy(links_ptr(s, lvl), ids, n * sizeof(slot_t));
}

bool hnsw_graph::append_link(slot_t s, unsigned lvl, slot_t id) {
  uint32_t* count = count_ptr(s, lvl);
  if (*count >= max_links(lvl)) return false;
  links_ptr(s, lvl)[(*count)++] = id;
  return true;
}

bool hnsw_graph::remove_link(slot_t s, unsigned lvl, slot_t id) {
  uint32_t* count = count_ptr(s, lvl);
  slot_t* ids = links_ptr(s, lvl);
  for (uint32_t i = 0; i < *count; ++i) {
    if (ids[i] == id) {
      ids[i] = ids[--(*count)];
      return true;
    }
  }
  return false;
}

void hnsw_graph::init_node(slot_t s, unsigned level, label_t label) {
  SHOAL_ASSERT(level <= kMaxLevel, "level {} above {}", level, kMaxLevel);
  release_upper(s);
  std::byte* r = record(s);
  std::memset(r, 0, payload_at_);  // header, links, label, correction; not the payload
  r[meta_at_ + 12] = static_cast<std::byte>(slot_state::live);
  r[meta_at_ + 13] = static_cast<std::byte>(level);
  set_label(s, label);
  if (level > 0) {
    upper_[s] = std::make_unique<uint32_t[]>(upper_words(level));  // zeroed: counts 0
    ++upper_nodes_;
    upper_words_total_ += upper_words(level);
  }
}

void hnsw_graph::release_upper(slot_t s) {
  if (!upper_[s]) return;
  upper_words_total_ -= upper_words(level(s));
  --upper_nodes_;
  upper_[s].reset();
}

void hnsw_graph::clear_node(slot_t s) {
  release_upper(s);
  std::memset(record(s), 0, payload_at_);
}

void hnsw_graph::adopt_upper(slot_t s, std::unique_ptr<uint32_t[]> links) {
  release_upper(s);
  if (!links) return;
  upper_[s] = std::move(links);
  ++upper_nodes_;
  upper_words_total_ += upper_words(level(s));
}

size_t hnsw_graph::memory_usage() const {
  return capacity_ * stride_ + upper_.capacity() * sizeof(upper_[0]) +
         upper_words_total_ * sizeof(uint32_t) + upper_nodes_ * 16;
}

}  // namespace shoal::index
