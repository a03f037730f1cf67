#pragma once
// The container every index snapshot uses (PRACTICES A11, P10). Little-endian throughout.
//
//   file header, 64 bytes
//     0   char[8]  magic "SHOALIDX"
//     8   u16      major format version (kFormatMajor); a reader refuses any other major
//     10  u16      minor format version; a reader refuses minors newer than it knows
//     12  u8       index kind (index_kind)
//     13  u8       metric (metric_kind)
//     14  u8       quantization (quantization_kind)
//     15  u8       reserved, 0
//     16  u32      dimension
//     20  u32      number of sections that follow
//     24  u64[4]   kind-specific parameters (see flat_index.h / hnsw_index.h)
//     56  u32      reserved, 0
//     60  u32      CRC-32C of bytes 0..59
//   sections, in the order the index kind defines
//     u32 tag, u32 reserved (0), u64 payload length, payload, u32 CRC-32C of the payload
//
// Readers check every length against what the header implies before trusting it, read large
// payloads in bounded chunks (so a truncated input fails before a large allocation) and verify
// each checksum. Any mismatch is an error value (errc::corrupt_file, truncated_file,
// unsupported_version, wrong_index_kind), never a crash.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "engine/common/result.h"
#include "index/errc.h"
#include "index/io/byte_stream.h"
#include "index/types.h"

namespace shoal::index::io {

inline constexpr char kMagic[8] = {'S', 'H', 'O', 'A', 'L', 'I', 'D', 'X'};
inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 0;
inline constexpr uint32_t kMaxDim = 1u << 16;

struct file_header {
  index_kind kind = index_kind::flat;
  metric_kind metric = metric_kind::l2;
  quantization_kind quantization = quantization_kind::none;
  uint32_t dim = 0;
  uint32_t section_count = 0;
  uint64_t params[4] = {0, 0, 0, 0};
};

result<void> write_header(byte_sink& sink, const file_header& header);
/// Validates magic, versions, checksum and enum ranges.
result<file_header> read_header(byte_source& source);

/// Writes one section whose payload is the concatenation of `pieces`.
result<void> write_section(byte_sink& sink, uint32_t tag,
                           std::span<const std::span<const std::byte>> pieces);

template <typename T>
std::span<const std::byte> bytes_of(std::span<const T> v) {
  return std::as_bytes(v);
}
template <typename T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
  return std::as_bytes(std::span<const T>(v));
}

/// Reads a section header: the tag must match and the payload must be exactly expected_bytes
/// (and, when the source knows its size, fit in what is left).
result<void> read_section_head(byte_source& source, uint32_t tag, uint64_t expected_bytes);
/// Reads and checks the CRC that ends a section whose payload hashed to `crc`.
result<void> read_section_tail(byte_source& source, uint32_t crc);
/// Reads `bytes` payload bytes into dest, continuing `crc`.
result<void> read_payload(byte_source& source, void* dest, size_t bytes, uint32_t& crc);

/// Reads a whole section of expected_count elements of T into `out`, growing it in bounded
/// chunks while reading so a truncated or lying input fails before a large allocation.
/// `out` is a std::vector or a mapped_array.
template <typename Array>
result<void> read_section(byte_source& source, uint32_t tag, uint64_t expected_count, Array& out) {
  using T = typename Array::value_type;
  if (expected_count > (uint64_t{1} << 40) / sizeof(T))
    return read_section_head(source, tag, ~0ull);
  if (auto r = read_section_head(source, tag, expected_count * sizeof(T)); !r) return r;
  constexpr size_t kChunkElements = (size_t{4} << 20) / sizeof(T) + 1;
  out.clear();
  uint32_t crc = 0;
  try {
    while (out.size() < expected_count) {
      size_t start = out.size();
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkElements, expected_count - start));
      out.resize(start + n);
      if (auto r = read_payload(source, out.data() + start, n * sizeof(T), crc); !r) return r;
    }
  } catch (const std::bad_alloc&) {
    return errc::corrupt_file;
  }
  return read_section_tail(source, crc);
}

/// Little-endian field packing for small metadata sections.
class field_writer {
 public:
  template <typename T>
  field_writer& put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

class field_reader {
 public:
  explicit field_reader(std::span<const std::byte> in) : in_(in) {}
  /// False once a get() ran past the end; values read then are zero.
  bool ok() const { return ok_; }
  template <typename T>
  T get() {
    T v{};
    if (in_.size() - pos_ < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

 private:
  std::span<const std::byte> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace shoal::index::io
