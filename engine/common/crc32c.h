#pragma once
// CRC-32C (Castagnoli), the checksum of log records, snapshots and RPC frames. Uses the SSE4.2
// crc32 instruction when the CPU has it (compiled in its own file, chosen at run time, so the
// build stays portable) and a slicing-by-8 table otherwise; both give identical results.

#include <cstddef>
#include <cstdint>
#include <span>

namespace shoal {

/// Continues a CRC: crc32c(crc32c(0, a), b) == crc32c(0, a + b). Start with 0.
uint32_t crc32c(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32c(std::span<const std::byte> bytes, uint32_t crc = 0) {
  return crc32c(crc, bytes.data(), bytes.size());
}

namespace detail {
uint32_t crc32c_table(uint32_t crc, const void* data, size_t size);
uint32_t crc32c_sse42(uint32_t crc, const void* data, size_t size);
bool cpu_has_sse42();
}  // namespace detail

}  // namespace shoal
