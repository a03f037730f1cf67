#pragma once
// CRC-32C (Castagnoli), the checksum of index snapshot sections. Table-driven, slicing by 8;
// portable (no SSE4.2 requirement) and fast enough for snapshot sizes (~1-2 GB/s).

#include <cstddef>
#include <cstdint>

namespace shoal::index {

/// Continues a CRC: crc32c(crc32c(0, a), b) == crc32c(0, a + b).
uint32_t crc32c(uint32_t crc, const void* data, size_t size);

}  // namespace shoal::index
