#include "engine/log/format.h"

#include <bit>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <lz4.h>

#include "engine/common/crc32c.h"
#include "engine/log/errc.h"

namespace shoal::wal {
namespace {

static_assert(std::endian::native == std::endian::little, "the log format is little-endian");

template <typename T>
void put(std::byte* at, T v) {
  std::memcpy(at, &v, sizeof v);
}
template <typename T>
T get(const std::byte* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

}  // namespace

std::array<std::byte, kSegmentHeaderSize> encode_segment_header(const segment_header& h) {
  std::array<std::byte, kSegmentHeaderSize> b{};
  std::memcpy(b.data(), kSegmentMagic.data(), kSegmentMagic.size());
  put<uint16_t>(b.data() + 8, kFormatVersion);
  put<uint16_t>(b.data() + 10, 0);
  put<uint64_t>(b.data() + 16, h.base_lsn);
  put<uint64_t>(b.data() + 24, h.term);
  put<uint32_t>(b.data() + 12, crc32c(0, b.data(), b.size()));
  return b;
}

result<segment_header> decode_segment_header(std::span<const std::byte> bytes) {
  if (bytes.size() < kSegmentHeaderSize) return errc::corrupt_segment;
  if (std::memcmp(bytes.data(), kSegmentMagic.data(), kSegmentMagic.size()) != 0) {
    return errc::corrupt_segment;
  }
  std::array<std::byte, kSegmentHeaderSize> copy;
  std::memcpy(copy.data(), bytes.data(), kSegmentHeaderSize);
  auto stored_crc = get<uint32_t>(copy.data() + 12);
  put<uint32_t>(copy.data() + 12, 0);
  if (crc32c(0, copy.data(), copy.size()) != stored_crc) return errc::corrupt_segment;
  if (get<uint16_t>(copy.data() + 8) != kFormatVersion) return errc::unsupported_version;
  return segment_header{get<uint64_t>(copy.data() + 16), get<uint64_t>(copy.data() + 24)};
}

std::array<std::byte, kRecordHeaderSize> encode_record_header(uint64_t lsn, uint64_t term,
                                                              uint8_t type, uint8_t flags,
                                                              uint32_t raw_len,
                                                              std::span<const std::byte> stored) {
  std::array<std::byte, kRecordHeaderSize> b{};
  std::byte* h = b.data();
  put<uint32_t>(h + 4, static_cast<uint32_t>(stored.size()));
  put<uint32_t>(h + 8, raw_len);
  put<uint8_t>(h + 12, type);
  put<uint8_t>(h + 13, flags);
  put<uint16_t>(h + 14, 0);
  put<uint64_t>(h + 16, lsn);
  put<uint64_t>(h + 24, term);
  // The CRC runs over the rest of the header and then the body, wherever the body lives.
  put<uint32_t>(h, crc32c(crc32c(0, h + 4, kRecordHeaderSize - 4), stored.data(), stored.size()));
  return b;
}

bool compress_body(std::span<const std::byte> body, size_t compress_threshold,
                   std::vector<std::byte>& out) {
  if (!compress_threshold || body.size() < compress_threshold ||
      body.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return false;
  }
  int bound = LZ4_compressBound(static_cast<int>(body.size()));
  out.resize(static_cast<size_t>(bound));
  int n = LZ4_compress_default(reinterpret_cast<const char*>(body.data()),
                               reinterpret_cast<char*>(out.data()), static_cast<int>(body.size()),
                               bound);
  if (n <= 0 || static_cast<size_t>(n) > body.size() - body.size() / 8) return false;
  out.resize(static_cast<size_t>(n));
  return true;
}

void encode_record(std::vector<std::byte>& out, uint64_t lsn, uint64_t term, uint8_t type,
                   std::span<const std::byte> body, size_t compress_threshold) {
  std::vector<std::byte> packed;
  bool lz4 = compress_body(body, compress_threshold, packed);
  std::span<const std::byte> stored = lz4 ? std::span<const std::byte>(packed) : body;
  auto h = encode_record_header(lsn, term, type, lz4 ? kFlagLz4 : 0,
                                static_cast<uint32_t>(body.size()), stored);
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), stored.begin(), stored.end());
}

record_header decode_record_header(std::span<const std::byte, kRecordHeaderSize> b) {
  record_header h;
  h.crc = get<uint32_t>(b.data());
  h.stored_len = get<uint32_t>(b.data() + 4);
  h.raw_len = get<uint32_t>(b.data() + 8);
  h.type = get<uint8_t>(b.data() + 12);
  h.flags = get<uint8_t>(b.data() + 13);
  h.lsn = get<uint64_t>(b.data() + 16);
  h.term = get<uint64_t>(b.data() + 24);
  return h;
}

bool record_checksum_ok(std::span<const std::byte> header_and_body) {
  if (header_and_body.size() < kRecordHeaderSize) return false;
  auto stored_crc = get<uint32_t>(header_and_body.data());
  return crc32c(0, header_and_body.data() + 4, header_and_body.size() - 4) == stored_crc;
}

result<std::vector<std::byte>> decode_body(const record_header& h,
                                           std::span<const std::byte> stored) {
  if (stored.size() != h.stored_len || h.raw_len > kMaxRecordBody) return errc::corrupt_segment;
  if (!(h.flags & kFlagLz4)) {
    if (h.raw_len != h.stored_len) return errc::corrupt_segment;
    return std::vector<std::byte>(stored.begin(), stored.end());
  }
  std::vector<std::byte> raw(h.raw_len);
  int n = LZ4_decompress_safe(reinterpret_cast<const char*>(stored.data()),
                              reinterpret_cast<char*>(raw.data()), static_cast<int>(stored.size()),
                              static_cast<int>(raw.size()));
  if (n < 0 || static_cast<uint32_t>(n) != h.raw_len) return errc::corrupt_segment;
  return raw;
}

std::string segment_file_name(uint64_t base_lsn, uint64_t term) {
  return fmt::format("{:020}-{:020}.log", base_lsn, term);
}

std::optional<segment_header> parse_segment_file_name(const std::string& name) {
  if (name.size() != 20 + 1 + 20 + 4 || name[20] != '-' || !name.ends_with(".log")) {
    return std::nullopt;
  }
  segment_header h;
  auto r1 = std::from_chars(name.data(), name.data() + 20, h.base_lsn);
  auto r2 = std::from_chars(name.data() + 21, name.data() + 41, h.term);
  if (r1.ec != std::errc{} || r1.ptr != name.data() + 20 || r2.ec != std::errc{} ||
      r2.ptr != name.data() + 41) {
    return std::nullopt;
  }
  return h;
}

}  // namespace shoal::wal
