#pragma once
// A bounded single-producer single-consumer ring of pointers, one per (source core, target core)
// direction (PRACTICES A4). The producer and consumer indices sit on separate cache lines, and
// each side caches the other's index so a push or pop touches shared lines only when it must.

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>

#include "engine/common/assert.h"

namespace shoal::rt {

template <typename T>
class spsc_ring {
 public:
  explicit spsc_ring(size_t capacity)
      : capacity_(std::bit_ceil(capacity)), mask_(capacity_ - 1), slots_(new T[capacity_]) {
    SHOAL_ASSERT(capacity > 0, "spsc_ring capacity must be positive");
  }

  /// Producer side. False when full.
  bool push(T v) {
    size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ >= capacity_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ >= capacity_) return false;
    }
    slots_[tail & mask_] = v;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Consumer side. False when empty.
  bool pop(T& out) {
    size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  /// Consumer side: true if pop() would find nothing right now.
  bool empty_for_consumer() const {
    return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_acquire);
  }

  /// Approximate (either side may move concurrently); for metrics.
  size_t size() const {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed);
  }
  size_t capacity() const { return capacity_; }

 private:
  static constexpr size_t kLine = 64;
  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(kLine) std::atomic<size_t> head_{0};  // consumer writes
  size_t tail_cache_ = 0;                       // consumer's view of tail_
  alignas(kLine) std::atomic<size_t> tail_{0};  // producer writes
  size_t head_cache_ = 0;                       // producer's view of head_
};

}  // namespace shoal::rt
