// XXH64 (engine/common/xxhash64.h) against values of the reference implementation (xxHash's
// xxhash.h, XXH64()), at every tail length of the algorithm, and streamed in pieces.
#include "engine/common/xxhash64.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(Xxh64, ReferenceValues) {
  EXPECT_EQ(xxh64("", 0), 0xef46db3751d8e999ull);
  EXPECT_EQ(xxh64("abc", 3), 0x44bc2cf5ad770999ull);
  unsigned char seq[100];
  for (int i = 0; i < 100; ++i) seq[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(xxh64(seq, 100), 0x6ac1e58032166597ull);
  EXPECT_EQ(xxh64(seq, 100, 0x9E3779B97F4A7C15ull), 0x3b97d91eba03e785ull);
  // Bytes i * 7 + 3: lengths through each branch (tail bytes, 4, 8, stripes of 32).
  std::vector<unsigned char> b(1000);
  for (int i = 0; i < 1000; ++i) b[i] = static_cast<unsigned char>(i * 7 + 3);
  const std::pair<size_t, uint64_t> want[] = {
      {1, 0x1f25c8d0bc1f4bb6ull},  {4, 0x9bb64b7d66ee9fdaull},  {8, 0xdab99d95c6f90092ull},
      {31, 0xa2aa5f33cc4a6119ull}, {32, 0x23c3c17ef790fd97ull}, {33, 0x50a7cfc7ba588784ull},
      {63, 0x5e3e54b431c7493cull}, {64, 0x0eb64b3ef6eeb01full}, {1000, 0x5f235fa033f1a3fbull}};
  for (auto [n, h] : want) EXPECT_EQ(xxh64(b.data(), n), h) << n << " bytes";
  EXPECT_EQ(xxh64(b.data(), 1000, 42), 0xd776e8028586ff61ull);
}

TEST(Xxh64, StreamedInAnyPiecesEqualsOneCall) {
  std::mt19937 rng(9);
  std::vector<unsigned char> buf(700);
  for (auto& x : buf) x = static_cast<unsigned char>(rng());
  for (size_t len = 0; len <= buf.size(); len += 7) {
    xxh64_stream s(5);
    for (size_t at = 0; at < len;) {
      size_t n = std::min<size_t>(len - at, rng() % 45);
      s.update(buf.data() + at, n);
      at += n;
    }
    ASSERT_EQ(s.digest(), xxh64(buf.data(), len, 5)) << len;
  }
}

}  // namespace
}  // namespace shoal
