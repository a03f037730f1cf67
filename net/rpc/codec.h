#pragma once
// The payload codec: little-endian primitives and versioned envelopes (net/README.md, "Payload
// encoding").
//
//   integers   u8 / u16 / u32 / u64, little-endian;  f32 IEEE-754 little-endian
//   string     u32 length, then the bytes (UTF-8 where text)
//   envelope   u8 version, u32 length, then `length` bytes of fields
//
// Every message is one envelope. A reader takes the fields it knows, in order, and skips what
// is left of the envelope, so a later version may append fields without breaking older readers;
// a reader refuses a version lower than the one that introduced a field it needs.
//
// reader never reads past its bytes and never allocates by a number it read: a count is checked
// against the bytes that remain (count x the smallest encoding of one element) before anything
// is reserved for it. A failed read makes the reader `failed()`, after which every read returns
// zero/empty; callers check once at the end (or before acting on a count).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "engine/common/result.h"
#include "net/rpc/buffer.h"
#include "net/rpc/errc.h"

namespace shoal::rpc {

class writer {
 public:
  explicit writer(bytes& out) : out_(out) {}

  void u8(uint8_t v) { put(v); }
  void u16(uint16_t v) { put(v); }
  void u32(uint32_t v) { put(v); }
  void u64(uint64_t v) { put(v); }
  void f32(float v) { put(v); }
  void raw(const void* p, size_t n) {
    auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  /// Starts an envelope; pass the returned mark to end_envelope.
  size_t begin_envelope(uint8_t version) {
    u8(version);
    size_t mark = out_.size();
    u32(0);
    return mark;
  }
  void end_envelope(size_t mark) {
    auto len = static_cast<uint32_t>(out_.size() - mark - 4);
    std::memcpy(out_.data() + mark, &len, 4);
  }
  size_t size() const { return out_.size(); }
  void reserve_more(size_t n) { out_.reserve(out_.size() + n); }

 private:
  template <typename T>
  void put(T v) {
    raw(&v, sizeof v);
  }
  bytes& out_;
};

class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}

  uint8_t u8() { return get<uint8_t>(); }
  uint16_t u16() { return get<uint16_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  float f32() { return get<float>(); }
  /// The next n bytes (a view into the input), or empty and failed.
  std::span<const std::byte> raw(size_t n) {
    if (failed_ || n > remaining()) {
      failed_ = true;
      return {};
    }
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view str() {
    uint32_t n = u32();
    auto s = raw(n);
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
  /// A u32 count of elements of at least `min_element_bytes` each; fails (returning 0) when
  /// that many could not fit in what remains.
  uint32_t count(size_t min_element_bytes) {
    uint32_t n = u32();
    if (failed_) return 0;
    if (min_element_bytes != 0 && n > remaining() / min_element_bytes) {
      failed_ = true;
      return 0;
    }
    return n;
  }
  /// Opens an envelope: its version and a reader over exactly its bytes (this reader moves
  /// past them). `version` is 0 when it failed.
  reader envelope(uint8_t& version) {
    version = u8();
    uint32_t n = u32();
    auto body = raw(n);
    if (failed_) version = 0;
    return reader(body, failed_);
  }

  size_t remaining() const { return in_.size() - pos_; }
  bool failed() const { return failed_; }
  void fail() { failed_ = true; }

 private:
  reader(std::span<const std::byte> in, bool failed) : in_(in), failed_(failed) {}
  template <typename T>
  T get() {
    T v{};
    if (failed_ || remaining() < sizeof v) {
      failed_ = true;
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }

  std::span<const std::byte> in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

/// A message's reader: opens its envelope and fails unless the version is at least
/// `min_version` (the version that introduced the fields the caller reads).
inline reader open_message(std::span<const std::byte> p, uint8_t min_version = 1) {
  reader outer(p);
  uint8_t version = 0;
  reader body = outer.envelope(version);
  if (version < min_version) body.fail();
  return body;
}

/// The decoded value, or errc::malformed when any read failed.
template <typename T>
result<T> decoded_value(const reader& r, T value) {
  if (r.failed()) return errc::malformed;
  return value;
}

}  // namespace shoal::rpc
