// The SSE4.2 crc32 instruction; this file alone is compiled with -msse4.2 (x86-64 only) and is
// called only when the CPU reports the feature.
#include <cstring>

#include "engine/common/crc32c.h"

#if defined(__x86_64__)
#include <nmmintrin.h>

namespace shoal::detail {
namespace {

// The crc32 instruction takes 3 cycles and can start one a cycle, so one chain of it runs at a
// third of the speed the unit allows. Long inputs go as three chains over three equal blocks, and
// the block CRCs are joined with crc(A B) = shift(crc(A), |B|) ^ crc(B): the CRC state is linear in
// GF(2), so shifting it past |B| zero bytes is a fixed 32x32 bit matrix, applied as four 256-entry
// tables.
constexpr size_t kLongBlock = 8192;  // bytes per chain on long inputs
constexpr size_t kShortBlock = 256;  // and on what is left, down to 3 x 256 bytes

uint64_t load64(const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

/// The state after `bytes` zero bytes (a multiple of 8) as a function of the state before.
struct zeros_shift {
  uint32_t table[4][256];

  explicit zeros_shift(size_t bytes) {
    uint32_t column[32];  // the image of each bit of the state
    for (int bit = 0; bit < 32; ++bit) {
      uint64_t state = uint32_t{1} << bit;
      for (size_t n = 0; n < bytes; n += 8) state = _mm_crc32_u64(state, 0);
      column[bit] = static_cast<uint32_t>(state);
    }
    for (int k = 0; k < 4; ++k) {
      for (uint32_t byte = 0; byte < 256; ++byte) {
        uint32_t image = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if ((byte >> bit) & 1u) image ^= column[8 * k + bit];
        }
        table[k][byte] = image;
      }
    }
  }

  uint32_t operator()(uint32_t state) const {
    return table[0][state & 0xFF] ^ table[1][(state >> 8) & 0xFF] ^ table[2][(state >> 16) & 0xFF] ^
           table[3][state >> 24];
  }
};

/// Three chains over the next 3 x `block` bytes, joined: the state after them.
uint64_t three_chains(uint64_t state, const unsigned char* p, size_t block,
                      const zeros_shift& past_block) {
  uint64_t a = state, b = 0, c = 0;
  for (size_t i = 0; i < block; i += 8) {
    a = _mm_crc32_u64(a, load64(p + i));
    b = _mm_crc32_u64(b, load64(p + block + i));
    c = _mm_crc32_u64(c, load64(p + 2 * block + i));
  }
  uint32_t ab = past_block(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
  return past_block(ab) ^ static_cast<uint32_t>(c);
}

}  // namespace

uint32_t crc32c_sse42(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  if (size >= 3 * kShortBlock) {
    static const zeros_shift past_long(kLongBlock), past_short(kShortBlock);
    for (; size >= 3 * kLongBlock; p += 3 * kLongBlock, size -= 3 * kLongBlock) {
      c = three_chains(c, p, kLongBlock, past_long);
    }
    for (; size >= 3 * kShortBlock; p += 3 * kShortBlock, size -= 3 * kShortBlock) {
      c = three_chains(c, p, kShortBlock, past_short);
    }
  }
  for (; size >= 8; p += 8, size -= 8) c = _mm_crc32_u64(c, load64(p));
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
