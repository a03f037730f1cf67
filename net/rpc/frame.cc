#include "net/rpc/frame.h"

#include <bit>
#include <cstring>

#include "engine/common/crc32c.h"
#include "net/rpc/compression.h"
#include "net/rpc/errc.h"

namespace shoal::rpc {

static_assert(std::endian::native == std::endian::little,
              "the RPC codec copies little-endian integers and floats as they lie in memory");

namespace {

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

header_bytes encode_header(const frame_header& h) {
  header_bytes out{};
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  put<uint8_t>(out.data() + 4, h.version);
  put<uint8_t>(out.data() + 5, h.flags);
  put<uint16_t>(out.data() + 6, h.method);
  put<uint64_t>(out.data() + 8, h.correlation);
  put<uint32_t>(out.data() + 16, h.payload_size);
  put<uint32_t>(out.data() + 20, h.raw_size);
  put<uint32_t>(out.data() + 24, h.payload_crc);
  put<uint32_t>(out.data() + 28, h.timeout_ms);
  put<uint32_t>(out.data() + 32, h.reserved);
  put<uint32_t>(out.data() + 36, crc32c(0, out.data(), 36));
  return out;
}

result<frame_header> decode_header(std::span<const std::byte, kHeaderSize> in) {
  if (std::memcmp(in.data(), kMagic.data(), kMagic.size()) != 0) return errc::bad_magic;
  if (crc32c(0, in.data(), 36) != get<uint32_t>(in.data() + 36)) return errc::header_checksum;
  frame_header h;
  h.version = get<uint8_t>(in.data() + 4);
  h.flags = get<uint8_t>(in.data() + 5);
  h.method = get<uint16_t>(in.data() + 6);
  h.correlation = get<uint64_t>(in.data() + 8);
  h.payload_size = get<uint32_t>(in.data() + 16);
  h.raw_size = get<uint32_t>(in.data() + 20);
  h.payload_crc = get<uint32_t>(in.data() + 24);
  h.timeout_ms = get<uint32_t>(in.data() + 28);
  h.reserved = get<uint32_t>(in.data() + 32);
  return h;
}

result<void> check_size(const frame_header& h, size_t max_payload) {
  if (h.payload_size > max_payload || h.raw_size > max_payload) return errc::frame_too_large;
  return {};
}

result<void> check_v1(const frame_header& h) {
  if ((h.flags & ~flags::known) != 0 || h.reserved != 0) return errc::bad_flags;
  if ((h.flags & flags::error) && !(h.flags & flags::response)) return errc::bad_flags;
  if (h.compressed()) {
    if (h.payload_size == 0 || h.raw_size == 0) return errc::bad_flags;
  } else if (h.raw_size != h.payload_size) {
    return errc::bad_flags;
  }
  return {};
}

result<void> check_payload(const frame_header& h, std::span<const std::byte> wire) {
  if (wire.size() != h.payload_size || crc32c(wire) != h.payload_crc) {
    return errc::payload_checksum;
  }
  return {};
}

outbound_frame make_frame(frame_header h, bytes payload, size_t compress_threshold,
                          bool* compressed_out) {
  outbound_frame f;
  h.flags &= static_cast<uint8_t>(~flags::lz4);
  h.raw_size = static_cast<uint32_t>(payload.size());
  bool compressed = false;
  if (compress_threshold != 0 && payload.size() >= compress_threshold) {
    if (auto c = lz4_compress(payload)) {
      payload = std::move(*c);
      h.flags |= flags::lz4;
      compressed = true;
    }
  }
  if (compressed_out) *compressed_out = compressed;
  h.payload_size = static_cast<uint32_t>(payload.size());
  h.payload_crc = crc32c(payload);
  f.header = encode_header(h);
  f.payload = std::move(payload);
  return f;
}

result<buffer> open_payload(const frame_header& h, buffer wire) {
  if (!h.compressed()) return wire;
  return lz4_decompress(wire.span(), h.raw_size);
}

}  // namespace shoal::rpc
