#include "index/io/format.h"

#include <bit>
#include <cstring>

#include "engine/common/crc32c.h"
#include "index/errc.h"

namespace shoal::index::io {

static_assert(std::endian::native == std::endian::little,
              "index snapshots are little-endian; a big-endian port needs byte swapping here");

namespace {

constexpr size_t kHeaderBytes = 64;

template <typename T>
void put(std::byte* buf, size_t offset, T v) {
  std::memcpy(buf + offset, &v, sizeof(T));
}
template <typename T>
T get(const std::byte* buf, size_t offset) {
  T v;
  std::memcpy(&v, buf + offset, sizeof(T));
  return v;
}

}  // namespace

result<void> write_header(byte_sink& sink, const file_header& h) {
  std::byte buf[kHeaderBytes] = {};
  std::memcpy(buf, kMagic, sizeof kMagic);
  put<uint16_t>(buf, 8, kFormatMajor);
  put<uint16_t>(buf, 10, kFormatMinor);
  put<uint8_t>(buf, 12, static_cast<uint8_t>(h.kind));
  put<uint8_t>(buf, 13, static_cast<uint8_t>(h.metric));
  put<uint8_t>(buf, 14, static_cast<uint8_t>(h.quantization));
  put<uint32_t>(buf, 16, h.dim);
  put<uint32_t>(buf, 20, h.section_count);
  for (int i = 0; i < 4; ++i) put<uint64_t>(buf, 24 + 8 * i, h.params[i]);
  put<uint32_t>(buf, 60, crc32c(0, buf, 60));
  return sink.write(buf, sizeof buf);
}

result<file_header> read_header(byte_source& source) {
  std::byte buf[kHeaderBytes];
  if (auto r = source.read(buf, sizeof buf); !r) return r.error();
  if (std::memcmp(buf, kMagic, sizeof kMagic) != 0) return errc::corrupt_file;
  if (get<uint32_t>(buf, 60) != crc32c(0, buf, 60)) return errc::corrupt_file;
  if (get<uint16_t>(buf, 8) != kFormatMajor || get<uint16_t>(buf, 10) > kFormatMinor) {
    return errc::unsupported_version;
  }
  file_header h;
  auto kind = get<uint8_t>(buf, 12), metric = get<uint8_t>(buf, 13), quant = get<uint8_t>(buf, 14);
  if (kind != static_cast<uint8_t>(index_kind::flat) &&
      kind != static_cast<uint8_t>(index_kind::hnsw)) {
    return errc::corrupt_file;
  }
  if (metric > static_cast<uint8_t>(metric_kind::manhattan)) return errc::corrupt_file;
  if (quant > static_cast<uint8_t>(quantization_kind::int8)) return errc::corrupt_file;
  h.kind = static_cast<index_kind>(kind);
  h.metric = static_cast<metric_kind>(metric);
  h.quantization = static_cast<quantization_kind>(quant);
  h.dim = get<uint32_t>(buf, 16);
  h.section_count = get<uint32_t>(buf, 20);
  for (int i = 0; i < 4; ++i) h.params[i] = get<uint64_t>(buf, 24 + 8 * i);
  if (h.dim == 0 || h.dim > kMaxDim) return errc::corrupt_file;
  return h;
}

result<void> write_section(byte_sink& sink, uint32_t tag,
                           std::span<const std::span<const std::byte>> pieces) {
  uint64_t length = 0;
  uint32_t crc = 0;
  for (auto p : pieces) {
    length += p.size();
    crc = crc32c(crc, p.data(), p.size());
  }
  std::byte head[16];
  put<uint32_t>(head, 0, tag);
  put<uint32_t>(head, 4, 0);
  put<uint64_t>(head, 8, length);
  if (auto r = sink.write(head, sizeof head); !r) return r;
  for (auto p : pieces) {
    if (auto r = sink.write(p.data(), p.size()); !r) return r;
  }
  return sink.write(&crc, sizeof crc);
}

result<void> read_section_head(byte_source& source, uint32_t tag, uint64_t expected_bytes) {
  std::byte head[16];
  if (auto r = source.read(head, sizeof head); !r) return r;
  if (get<uint32_t>(head, 0) != tag || get<uint32_t>(head, 4) != 0) return errc::corrupt_file;
  uint64_t length = get<uint64_t>(head, 8);
  if (length != expected_bytes) return errc::corrupt_file;
  if (auto left = source.remaining(); left && *left < length + sizeof(uint32_t)) {
    return errc::truncated_file;
  }
  return {};
}

result<void> read_payload(byte_source& source, void* dest, size_t bytes, uint32_t& crc) {
  if (auto r = source.read(dest, bytes); !r) return r;
  crc = crc32c(crc, dest, bytes);
  return {};
}

result<void> read_section_tail(byte_source& source, uint32_t crc) {
  uint32_t stored;
  if (auto r = source.read(&stored, sizeof stored); !r) return r;
  if (stored != crc) return errc::corrupt_file;
  return {};
}

}  // namespace shoal::index::io
