#pragma once
// XXH64 (Yann Collet's xxHash, 64-bit variant), written from its specification: a fast
// non-cryptographic hash whose output is fixed by that specification, so every host and every
// build computes the same value for the same bytes (std::hash and absl::Hash promise neither).
// Used where hashes are compared across hosts: the replica digest (engine/shard/replica_digest.h).
// tests/unit/common/xxhash64_test.cc checks it against the reference implementation's values.
//
// Inputs are read in little-endian order, as the specification defines them; a big-endian host
// would need byte swaps here.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shoal {

class xxh64_stream {
 public:
  explicit xxh64_stream(uint64_t seed = 0)
      : v1_(seed + kP1 + kP2), v2_(seed + kP2), v3_(seed), v4_(seed - kP1), seed_(seed) {}

  xxh64_stream& update(const void* data, size_t size) {
    auto* p = static_cast<const unsigned char*>(data);
    total_ += size;
    if (buffered_ + size < 32) {
      if (size) std::memcpy(buffer_ + buffered_, p, size);
      buffered_ += size;
      return *this;
    }
    if (buffered_) {
      size_t fill = 32 - buffered_;
      std::memcpy(buffer_ + buffered_, p, fill);
      stripe(buffer_);
      p += fill;
      size -= fill;
      buffered_ = 0;
    }
    while (size >= 32) {
      stripe(p);
      p += 32;
      size -= 32;
    }
    if (size) std::memcpy(buffer_, p, size);
    buffered_ = size;
    return *this;
  }
  template <typename T>
  xxh64_stream& put(const T& v) {
    return update(&v, sizeof v);
  }
  /// The length, then the bytes: strings hashed one after another cannot be mistaken for a
  /// different split of the same bytes.
  xxh64_stream& put_string(std::string_view s) {
    put<uint64_t>(s.size());
    return update(s.data(), s.size());
  }

  uint64_t digest() const {
    uint64_t h;
    if (total_ >= 32) {
      h = rotl(v1_, 1) + rotl(v2_, 7) + rotl(v3_, 12) + rotl(v4_, 18);
      h = merge(h, v1_);
      h = merge(h, v2_);
      h = merge(h, v3_);
      h = merge(h, v4_);
    } else {
      h = seed_ + kP5;
    }
    h += total_;
    const unsigned char* p = buffer_;
    size_t left = buffered_;
    while (left >= 8) {
      h ^= round(0, read64(p));
      h = rotl(h, 27) * kP1 + kP4;
      p += 8;
      left -= 8;
    }
    if (left >= 4) {
      h ^= uint64_t{read32(p)} * kP1;
      h = rotl(h, 23) * kP2 + kP3;
      p += 4;
      left -= 4;
    }
    while (left > 0) {
      h ^= uint64_t{*p} * kP5;
      h = rotl(h, 11) * kP1;
      ++p;
      --left;
    }
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    h ^= h >> 32;
    return h;
  }

 private:
  static constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
  static constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
  static constexpr uint64_t kP3 = 0x165667B19E3779F9ull;
  static constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ull;
  static constexpr uint64_t kP5 = 0x27D4EB2F165667C5ull;

  static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  static uint64_t read64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint32_t read32(const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static uint64_t round(uint64_t acc, uint64_t input) {
    acc += input * kP2;
    acc = rotl(acc, 31);
    return acc * kP1;
  }
  static uint64_t merge(uint64_t acc, uint64_t v) {
    acc ^= round(0, v);
    return acc * kP1 + kP4;
  }
  void stripe(const unsigned char* p) {
    v1_ = round(v1_, read64(p));
    v2_ = round(v2_, read64(p + 8));
    v3_ = round(v3_, read64(p + 16));
    v4_ = round(v4_, read64(p + 24));
  }

  uint64_t v1_, v2_, v3_, v4_;
  uint64_t seed_;
  uint64_t total_ = 0;
  unsigned char buffer_[32];
  size_t buffered_ = 0;
};

/// XXH64 of one buffer.
inline uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0) {
  return xxh64_stream(seed).update(data, size).digest();
}

}  // namespace shoal
