// The SSE4.2 crc32 instruction; this file alone is compiled with -msse4.2 (x86-64 only) and is
// called only when the CPU reports the feature.
#include <cstring>

#include "engine/common/crc32c.h"

#if defined(__x86_64__)
#include <nmmintrin.h>

namespace shoal::detail {

uint32_t crc32c_sse42(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (size-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

}  // namespace shoal::detail
#else
namespace shoal::detail {
uint32_t crc32c_sse42(uint32_t crc, const void* data, size_t size) {
  return crc32c_table(crc, data, size);
}
}  // namespace shoal::detail
#endif
