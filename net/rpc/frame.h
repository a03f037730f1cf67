#pragma once
// The frame: a fixed 40-byte header and a payload (net/README.md, "Frames", is the reference).
// Every integer is little-endian.
//
//   offset size field
//    0      4   magic        "SHRP" (0x53 0x48 0x52 0x50)
//    4      1   version      1
//    5      1   flags        bit 0 LZ4 payload, bit 1 response, bit 2 error response; others 0
//    6      2   method       method id (messages.h); a response carries its request's
//    8      8   correlation  chosen by the client, echoed by the response (responses may come
//                            back in any order)
//   16      4   payload_size bytes of payload after the header, as sent
//   20      4   raw_size     payload bytes after decompression (== payload_size without LZ4):
//                            declared up front so a receiver reserves memory before it reads,
//                            and never decompresses past it
//   24      4   payload_crc  CRC-32C of the payload bytes as sent
//   28      4   timeout_ms   requests: the caller's remaining budget (0: the server default);
//                            responses: 0
//   32      4   reserved     0 in version 1
//   36      4   header_crc   CRC-32C of bytes 0..35
//
// Versioning: a new version may change payload encodings and method semantics, never this
// header's layout, so any version's header can be checked and answered (an error frame for a
// version the receiver does not speak) without losing the stream.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/common/result.h"
#include "net/rpc/buffer.h"

namespace shoal::rpc {

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 40;
inline constexpr std::array<std::byte, 4> kMagic = {std::byte{'S'}, std::byte{'H'}, std::byte{'R'},
                                                    std::byte{'P'}};

namespace flags {
inline constexpr uint8_t lz4 = 1u << 0;
inline constexpr uint8_t response = 1u << 1;
inline constexpr uint8_t error = 1u << 2;
inline constexpr uint8_t known = lz4 | response | error;
}  // namespace flags

struct frame_header {
  uint8_t version = kVersion;
  uint8_t flags = 0;
  uint16_t method = 0;
  uint64_t correlation = 0;
  uint32_t payload_size = 0;
  uint32_t raw_size = 0;
  uint32_t payload_crc = 0;
  uint32_t timeout_ms = 0;
  uint32_t reserved = 0;

  bool compressed() const { return flags & flags::lz4; }
  bool is_response() const { return flags & flags::response; }
  bool is_error() const { return flags & flags::error; }
};

using header_bytes = std::array<std::byte, kHeaderSize>;

/// Writes the header with its CRC.
header_bytes encode_header(const frame_header& h);

/// Checks magic and header CRC. Errors: bad_magic, header_checksum (the stream cannot be
/// trusted after either).
result<frame_header> decode_header(std::span<const std::byte, kHeaderSize> in);

/// payload_size and raw_size at most `max_payload`, else errc::frame_too_large.
result<void> check_size(const frame_header& h, size_t max_payload);

/// Version-1 rules a sound header must also follow: known flag bits only, reserved 0,
/// raw_size == payload_size without LZ4, both non-zero with it. errc::bad_flags otherwise.
result<void> check_v1(const frame_header& h);

/// The payload CRC check. errc::payload_checksum on mismatch.
result<void> check_payload(const frame_header& h, std::span<const std::byte> wire);

/// A frame ready to send: its header and payload (compressed or not).
struct outbound_frame {
  header_bytes header{};
  bytes payload;
  size_t size() const { return kHeaderSize + payload.size(); }
};

/// Builds a frame: compresses `payload` with LZ4 when it is at least `compress_threshold`
/// bytes (0: never) and that saves at least an eighth, sets sizes and CRCs. `compressed_out`
/// (if given) tells whether LZ4 was kept.
outbound_frame make_frame(frame_header h, bytes payload, size_t compress_threshold,
                          bool* compressed_out = nullptr);

/// The payload as the handler or caller sees it: decompressed into a new buffer when the frame
/// is LZ4 (exactly raw_size bytes, or errc::decompress_failed), else the wire bytes themselves.
result<buffer> open_payload(const frame_header& h, buffer wire);

}  // namespace shoal::rpc
