#pragma once
// On-disk format of the per-shard mutation log (PRACTICES A10, A11). Little-endian throughout.
//
// A log is a directory of segment files named "<base_lsn>-<term>.log" (both 20-digit decimal,
// so names sort by LSN). A segment is a header followed by records:
//
//   segment header, 32 bytes
//     0  magic     "SHOALLOG"
//     8  version   u16 (1)
//    10  flags     u16 (0)
//    12  crc       u32  CRC-32C of the 32 header bytes with this field zeroed
//    16  base_lsn  u64  LSN of the first record in the segment
//    24  term      u64  term when the segment was created
//
//   record, 32-byte header + body
//     0  crc        u32  CRC-32C of bytes 4 .. 32+stored_len (the rest of the header and the body)
//     4  stored_len u32  body bytes on disk
//     8  raw_len    u32  body bytes once decompressed (== stored_len unless compressed)
//    12  type       u8   opaque to the log (the shard's mutation kind)
//    13  flags      u8   bit 0: body is LZ4-compressed
//    14  reserved   u16  0
//    16  lsn        u64  strictly +1 from the previous record
//    24  term       u64
//    32  body
//
// A record never spans segments. LSNs start at 1.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/common/result.h"

namespace shoal::wal {

inline constexpr std::array<char, 8> kSegmentMagic = {'S', 'H', 'O', 'A', 'L', 'L', 'O', 'G'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 32;
inline constexpr size_t kMaxRecordBody = 64u << 20;  // a corrupt length can never allocate more
inline constexpr uint8_t kFlagLz4 = 1;

struct segment_header {
  uint64_t base_lsn = 0;
  uint64_t term = 0;
};

struct record_header {
  uint32_t crc = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint64_t lsn = 0;
  uint64_t term = 0;
};

/// A decoded record.
struct log_record {
  uint64_t lsn = 0;
  uint64_t term = 0;
  uint8_t type = 0;
  std::vector<std::byte> body;  // decompressed
};

std::array<std::byte, kSegmentHeaderSize> encode_segment_header(const segment_header& h);
/// errc::corrupt_segment (bad magic or checksum) or errc::unsupported_version.
result<segment_header> decode_segment_header(std::span<const std::byte> bytes);

/// The header of a record whose body is stored as `stored`: LZ4-compressed when flags has
/// kFlagLz4 (raw_len is then its size decompressed), else raw_len == stored.size().
std::array<std::byte, kRecordHeaderSize> encode_record_header(uint64_t lsn, uint64_t term,
                                                              uint8_t type, uint8_t flags,
                                                              uint32_t raw_len,
                                                              std::span<const std::byte> stored);
/// Compresses body into `out` when it is at least `compress_threshold` bytes (0: never) and LZ4
/// saves at least 1/8; false (and `out` unspecified) when the body is to be stored as it is.
bool compress_body(std::span<const std::byte> body, size_t compress_threshold,
                   std::vector<std::byte>& out);
/// Appends one encoded record to `out`; compresses the body with LZ4 when it is at least
/// `compress_threshold` bytes (0: never) and compression saves at least 1/8.
void encode_record(std::vector<std::byte>& out, uint64_t lsn, uint64_t term, uint8_t type,
                   std::span<const std::byte> body, size_t compress_threshold);

record_header decode_record_header(std::span<const std::byte, kRecordHeaderSize> bytes);
/// Checks the header's sanity and the checksum of header + stored body.
bool record_checksum_ok(std::span<const std::byte> header_and_body);
/// The body as written by encode_record, decompressed when flagged.
result<std::vector<std::byte>> decode_body(const record_header& h,
                                           std::span<const std::byte> stored);

std::string segment_file_name(uint64_t base_lsn, uint64_t term);
/// Parses "<base_lsn>-<term>.log"; nullopt for other names.
std::optional<segment_header> parse_segment_file_name(const std::string& name);

}  // namespace shoal::wal
