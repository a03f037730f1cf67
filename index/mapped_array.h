#pragma once
// A growable array of trivially copyable values in its own anonymous memory mapping. It grows
// the way std::vector does (capacity at least doubles), but with mremap: the kernel moves the
// pages to a larger range instead of the program copying every element into a new allocation.
// So growth costs page-table work, not a copy of the whole array, and there is never a moment
// with both the old and the new array in memory. A flat index of a million 768-d vectors is
// 3 GiB: a vector's growth would copy all of it on the owning core and need 6 GiB at its peak.
//
// No MADV_HUGEPAGE: with it, RPC ingest into a flat collection ran at half the rate from the
// second collection on (most likely the kernel compacting memory for 2 MiB pages on the
// faulting core).
//
// Elements past size() that were never used read as zero (fresh mappings are zeroed); resize()
// zeroes the ones that were used before a shrink, so it behaves as std::vector's resize.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

namespace shoal::index {
namespace detail {

/// Maps `new_bytes` (a multiple of the page size) of zeroed memory, keeping the first
/// `old_bytes` of the mapping at `old` (nullptr: none yet). Throws std::bad_alloc.
void* remap_grow(void* old, size_t old_bytes, size_t new_bytes);
void unmap(void* p, size_t bytes);
/// The mapping size for at least `bytes`: whole pages, and at least double `current`.
size_t grown_mapping_bytes(size_t current, size_t bytes);

}  // namespace detail

template <typename T>
class mapped_array {
  static_assert(std::is_trivially_copyable_v<T>, "elements are moved by remapping pages");

 public:
  using value_type = T;

  mapped_array() = default;
  mapped_array(const mapped_array&) = delete;
  mapped_array& operator=(const mapped_array&) = delete;
  mapped_array(mapped_array&& o) noexcept { swap(o); }
  mapped_array& operator=(mapped_array&& o) noexcept {
    if (this != &o) {
      mapped_array gone(std::move(*this));
      swap(o);
    }
    return *this;
  }
  ~mapped_array() {
    if (data_ != nullptr) detail::unmap(data_, mapped_bytes_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return mapped_bytes_ / sizeof(T); }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

  void reserve(size_t n) {
    if (n <= capacity()) return;
    size_t bytes = detail::grown_mapping_bytes(mapped_bytes_, n * sizeof(T));
    data_ = static_cast<T*>(detail::remap_grow(data_, mapped_bytes_, bytes));
    mapped_bytes_ = bytes;
  }
  /// New elements are zero, as std::vector's value-initialised ones.
  void resize(size_t n) {
    if (n > size_) {
      reserve(n);
      // Only elements used before a shrink can be non-zero: the rest are untouched pages.
      size_t dirty_end = std::min(n, used_);
      if (dirty_end > size_) std::memset(data_ + size_, 0, (dirty_end - size_) * sizeof(T));
    }
    size_ = n;
    used_ = std::max(used_, size_);
  }
  /// Appends n elements whose value the caller writes next; returns the first.
  T* extend(size_t n) {
    reserve(size_ + n);
    T* first = data_ + size_;
    size_ += n;
    used_ = std::max(used_, size_);
    return first;
  }
  void append(const T* values, size_t n) { std::memcpy(extend(n), values, n * sizeof(T)); }
  void push_back(const T& v) { *extend(1) = v; }
  void pop_back(size_t n = 1) { size_ -= std::min(n, size_); }
  void clear() { size_ = 0; }

  void swap(mapped_array& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(used_, o.used_);
    std::swap(mapped_bytes_, o.mapped_bytes_);
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t used_ = 0;  // the largest size so far: elements from here on are still zero pages
  size_t mapped_bytes_ = 0;
};

}  // namespace shoal::index
