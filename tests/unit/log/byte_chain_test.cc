#include "engine/log/byte_chain.h"

#include <fcntl.h>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/common/file_io.h"
#include "tests/support/tmpdir.h"

namespace shoal::wal {
namespace {

std::vector<std::byte> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<std::byte> b(n);
  for (auto& x : b) x = static_cast<std::byte>(rng());
  return b;
}

std::vector<std::byte> concatenated(const byte_chain& c) {
  std::vector<std::byte> all;
  for (auto piece : c.pieces()) all.insert(all.end(), piece.begin(), piece.end());
  return all;
}

// Copies and adoptions in random order and sizes: the pieces together are exactly the bytes
// appended; an adopted buffer is the very memory given (not a copy); a piece, once handed out,
// never moves while later bytes are put.
TEST(ByteChain, PiecesAreTheBytesInOrderAndNeverMove) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    byte_chain c;
    std::vector<std::byte> want;
    std::vector<std::pair<const std::byte*, size_t>> seen;  // every piece's address so far
    for (int op = 0; op < 300; ++op) {
      size_t n = rng() % 3 == 0 ? rng() % 70000 : rng() % 100;
      auto b = random_bytes(rng, n);
      want.insert(want.end(), b.begin(), b.end());
      if (rng() % 4 == 0) {
        const std::byte* at = b.data();
        c.adopt(std::move(b));
        if (n > 0) EXPECT_EQ(c.pieces().back().data(), at) << "adopted without a copy";
      } else {
        c.put(b);
      }
      auto pieces = c.pieces();
      for (size_t i = 0; i < seen.size(); ++i) {
        ASSERT_EQ(pieces[i].data(), seen[i].first) << "piece " << i << " moved";
        ASSERT_GE(pieces[i].size(), seen[i].second);
      }
      seen.clear();
      for (auto p : pieces) {
        EXPECT_FALSE(p.empty());
        seen.emplace_back(p.data(), p.size());
      }
    }
    ASSERT_EQ(c.size(), want.size());
    ASSERT_EQ(concatenated(c), want);
  }
}

// pwritev_all over more parts than one pwritev takes (IOV_MAX), with empty parts among them,
// writes the concatenation at the offset.
TEST(ByteChain, PwritevAllWritesEveryPartInOrder) {
  shoal::test::tmpdir dir;
  std::mt19937_64 rng(5);
  std::vector<std::vector<std::byte>> parts;
  std::vector<std::byte> want(100, std::byte{7});
  for (int i = 0; i < 2500; ++i) {
    parts.push_back(random_bytes(rng, i % 7 == 0 ? 0 : rng() % 300));
    want.insert(want.end(), parts.back().begin(), parts.back().end());
  }
  std::vector<std::span<const std::byte>> spans(parts.begin(), parts.end());
  auto f = fileio::open_file(dir / "f", O_RDWR | O_CREAT);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(fileio::pwrite_all(*f, std::span(want).first(100), 0).has_value());
  ASSERT_TRUE(fileio::pwritev_all(*f, spans, 100).has_value());
  std::vector<std::byte> got(want.size() + 10);
  auto n = fileio::pread_full(*f, got, 0);
  ASSERT_TRUE(n.has_value());
  ASSERT_EQ(*n, want.size());
  got.resize(*n);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace shoal::wal
