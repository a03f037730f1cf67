#include "index/hnsw/hnsw_graph.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace shoal::index {
namespace {

constexpr size_t align_up(size_t v, size_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

hnsw_graph::hnsw_graph(size_t max_links, size_t payload_bytes)
    : max_links_(max_links), max_links0_(2 * max_links), payload_bytes_(payload_bytes) {
  payload_at_ = align_up(4 + 4 * max_links0_ + 16, 64);
  meta_at_ = payload_at_ - 16;
  links_bytes_ = 4 + 4 * max_links0_;
  stride_ = align_up(payload_at_ + payload_bytes_, 64);
  // Chunks of about 16 to 32 MiB (a power of two of slots, 256 to 1M): large enough that a
  // chunk's partial huge page at its end (kept in 4 KiB pages) is a few percent of it and a
  // billion-point graph needs only tens of thousands of mappings, small enough that a graph's
  // unused capacity (at most one chunk) stays a few percent of a large graph.
  const size_t want = std::max<size_t>(1, (size_t{32} << 20) / stride_);
  chunk_bits_ = 8;
  while (chunk_bits_ < 20 && (size_t{1} << (chunk_bits_ + 1)) <= want) ++chunk_bits_;
  chunk_mask_ = (uint32_t{1} << chunk_bits_) - 1;
}

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

std::atomic<size_t> g_mapped_bytes{0};

}  // namespace

size_t hnsw_graph::mapped_bytes() {
  return g_mapped_bytes.load(std::memory_order_relaxed);
}

void hnsw_graph::chunk_free::operator()(std::byte* p) const {
  if (mapped) {
    ::munmap(p, bytes);
    g_mapped_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  } else {
    std::free(p);
  }
}

hnsw_graph::chunk_ptr hnsw_graph::allocate_records(size_t bytes) {
  // Walks touch records at random: with 4 KiB pages nearly every visit on a large graph also
  // misses the TLB. Chunks of 2 MiB and more are mapped directly, 2 MiB-aligned, and asked to be
  // backed by transparent huge pages (honoured when THP is in "madvise" or "always" mode).
  // Mapping them ourselves rather than through aligned_alloc: glibc keeps the whole
  // over-allocation it needs for the alignment (up to 2 MiB a chunk) mapped until the free.
  if (bytes < kHugePage) {
    auto* p = static_cast<std::byte*>(std::aligned_alloc(64, align_up(bytes, 64)));
    if (p == nullptr) throw std::bad_alloc();
    return chunk_ptr(p, chunk_free{bytes, false});
  }
  const size_t length = align_up(bytes, 4096);
  void* raw = ::mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = align_up(start, kHugePage);
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = start + length + kHugePage;
  if (end > aligned + length)
    ::munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  auto* p = reinterpret_cast<std::byte*>(aligned);
#ifdef MADV_HUGEPAGE
  ::madvise(p, length, MADV_HUGEPAGE);
#endif
  g_mapped_bytes.fetch_add(length, std::memory_order_relaxed);
  return chunk_ptr(p, chunk_free{length, true});
}

void hnsw_graph::add_chunk() {
  // A small graph keeps one chunk and doubles it (copying a small chunk is cheap), so an index
  // of a few points does not hold megabytes; from a full chunk on, whole chunks are added and
  // nothing is copied again.
  if (chunks_.size() <= 1 && capacity_ < chunk_slots()) {
    size_t slots = std::min(chunk_slots(), std::max<size_t>(64, capacity_ * 2));
    auto fresh = allocate_records(slots * stride_);
    if (!chunks_.empty() && slot_count_ > 0)
      std::memcpy(fresh.get(), chunks_[0].get(), slot_count_ * stride_);
    chunks_.clear();
    chunks_.push_back(std::move(fresh));
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
