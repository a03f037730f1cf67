#include "engine/common/crc32c.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) test vectors and the classic check value.
  EXPECT_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
  std::vector<unsigned char> zeros(32, 0), ones(32, 0xFF), inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(0, zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(0, ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(0, inc.data(), 32), 0x46DD794Eu);
}

TEST(Crc32c, HardwareAndTableAgreeForEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<unsigned char> buf(600);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len + offset <= 512; ++len) {
      auto table = detail::crc32c_table(0, buf.data() + offset, len);
      if (detail::cpu_has_sse42()) {
        ASSERT_EQ(detail::crc32c_sse42(0, buf.data() + offset, len), table) << len;
      }
      ASSERT_EQ(crc32c(0, buf.data() + offset, len), table);
    }
  }
}

// Long inputs go as three interleaved chains joined by shift tables (crc32c_sse42.cc): every
// length around the block boundaries, long ones, odd alignments and a nonzero starting CRC.
TEST(Crc32c, InterleavedChainsAgreeWithTheTableOnLongInputs) {
  if (!detail::cpu_has_sse42()) GTEST_SKIP() << "no SSE4.2";
  std::mt19937 rng(11);
  std::vector<unsigned char> buf(3 * 8192 * 3 + 4096);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  std::vector<size_t> lengths;
  for (size_t base : {size_t{3 * 256}, size_t{3 * 8192}, size_t{6 * 8192}}) {
    for (size_t d = 0; d < 40; ++d) {
      lengths.push_back(base - 20 + d);
    }
  }
  for (size_t i = 0; i < 200; ++i) lengths.push_back(rng() % (buf.size() - 8));
  for (size_t len : lengths) {
    for (size_t offset : {0, 1, 5}) {
      uint32_t start = (len & 1) ? 0 : static_cast<uint32_t>(rng());
      ASSERT_EQ(detail::crc32c_sse42(start, buf.data() + offset, len),
                detail::crc32c_table(start, buf.data() + offset, len))
          << "length " << len << " offset " << offset;
    }
  }
}

TEST(Crc32c, ContinuationEqualsOneShot) {
  std::string a = "hello, ", b = "world";
  EXPECT_EQ(crc32c(crc32c(0, a.data(), a.size()), b.data(), b.size()),
            crc32c(0, (a + b).data(), a.size() + b.size()));
}

}  // namespace
}  // namespace shoal
