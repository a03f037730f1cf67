#include "index/hnsw/hnsw_graph.h"

#include <algorithm>
#include <cstdlib>
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
}

void hnsw_graph::grow(size_t slots) {
  if (slots <= capacity_) return;
  // Walks touch records at random: with 4 KiB pages nearly every visit on a large graph also
  // misses the TLB. Blocks of 2 MiB and more are 2 MiB-aligned and asked to be backed by
  // transparent huge pages (honoured when THP is in "madvise" or "always" mode).
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t bytes = slots * stride_;
  const bool huge = bytes >= kHugePage;
  const size_t alloc_bytes = huge ? align_up(bytes, kHugePage) : align_up(bytes, 64);
  auto* fresh = static_cast<std::byte*>(std::aligned_alloc(huge ? kHugePage : 64, alloc_bytes));
  if (fresh == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) ::madvise(fresh, alloc_bytes, MADV_HUGEPAGE);
#endif
  if (slot_count_ > 0) std::memcpy(fresh, block_.get(), slot_count_ * stride_);
  block_.reset(fresh);
  capacity_ = slots;
  upper_.reserve(slots);
}

void hnsw_graph::reserve(size_t slots) {
  grow(slots);
}

slot_t hnsw_graph::append_slot() {
  SHOAL_ASSERT(slot_count_ < invalid_slot - 1, "HNSW slot space exhausted");
  if (slot_count_ == capacity_) grow(std::max<size_t>(1024, capacity_ + capacity_ / 2));
  slot_t s = static_cast<slot_t>(slot_count_++);
  std::memset(record(s), 0, stride_);
  upper_.emplace_back();
  return s;
}

void hnsw_graph::reset(size_t slots) {
  block_.reset();
  capacity_ = 0;
  slot_count_ = 0;
  upper_.clear();
  upper_nodes_ = 0;
  upper_words_total_ = 0;
  grow(std::max<size_t>(slots, 1));
  if (slots > 0) std::memset(block_.get(), 0, slots * stride_);
  slot_count_ = slots;
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
