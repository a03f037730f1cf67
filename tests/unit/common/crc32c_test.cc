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

TEST(Crc32c, ContinuationEqualsOneShot) {
  std::string a = "hello, ", b = "world";
  EXPECT_EQ(crc32c(crc32c(0, a.data(), a.size()), b.data(), b.size()),
            crc32c(0, (a + b).data(), a.size() + b.size()));
}

}  // namespace
}  // namespace shoal
