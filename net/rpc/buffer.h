#pragma once
// An owned byte buffer that is not zero-filled when it is made (frame bodies are read straight
// into it), and the growable form the encoders append to.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace shoal::rpc {

/// Bytes being encoded (a frame payload).
using bytes = std::vector<std::byte>;

class buffer {
 public:
  buffer() = default;
  explicit buffer(size_t n)
      : data_(n ? std::make_unique_for_overwrite<std::byte[]>(n) : nullptr), size_(n) {}
  static buffer copy_of(std::span<const std::byte> s) {
    buffer b(s.size());
    if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
    return b;
  }
  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<std::byte> span() { return {data_.get(), size_}; }
  std::span<const std::byte> span() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<std::byte[]> data_;
  size_t size_ = 0;
};

}  // namespace shoal::rpc
