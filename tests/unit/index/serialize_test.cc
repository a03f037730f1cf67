// Snapshots: round trips for every index kind and quantization, and hostile input: every
// truncation length on a small file, bit flips all over it, foreign files, future versions.
// A bad file must give an error value, never a crash, and never a half-loaded index.
#include <cstring>

#include <gtest/gtest.h>

#include "engine/common/crc32c.h"
#include "index/errc.h"
#include "index/flat/flat_index.h"
#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_invariants.h"
#include "tests/support/tmpdir.h"
#include "tests/unit/index/index_test_util.h"

namespace shoal::index {
namespace {

std::vector<std::byte> save_to_memory(const vector_index& index) {
  std::vector<std::byte> bytes;
  memory_sink sink(bytes);
  auto r = index.save(sink);
  EXPECT_TRUE(r) << describe(r.error());
  return bytes;
}

result<std::unique_ptr<vector_index>> load_from_memory(std::span<const std::byte> bytes) {
  memory_source source(bytes);
  return load_index(source);
}

std::unique_ptr<hnsw_index> small_hnsw(quantization_kind q, size_t n, size_t removals) {
  hnsw_config c;
  c.dim = 12;
  c.metric = metric_kind::cosine;
  c.quantization = q;
  c.m = 6;
  c.ef_construction = 40;
  c.quantization_train_size = 50;
  auto index = hnsw_index::create(c).value();
  auto data = test::embedding_like_vectors(n, c.dim, 5, 4, 61);
  std::vector<label_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = 100 + i;
  EXPECT_TRUE(index->add_batch(labels, data));
  for (size_t i = 0; i < removals; ++i) EXPECT_TRUE(index->remove(100 + i * 3));
  return index;
}

void expect_same_answers(const vector_index& a, const vector_index& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.dim(), b.dim());
  ASSERT_EQ(a.metric(), b.metric());
  auto queries = test::gaussian_vectors(20, a.dim(), 62);
  std::vector<neighbor> ra(10), rb(10);
  for (size_t q = 0; q < 20; ++q) {
    std::span<const float> query(queries.data() + q * a.dim(), a.dim());
    auto na = a.search(query, 10, ra);
    auto nb = b.search(query, 10, rb);
    ASSERT_TRUE(na && nb);
    ASSERT_EQ(*na, *nb);
    EXPECT_EQ(ra, rb) << "query " << q;
  }
}

class HnswSnapshot : public ::testing::TestWithParam<quantization_kind> {};

TEST_P(HnswSnapshot, RoundTripKeepsAnswersAndStaysUsable) {
  auto index = small_hnsw(GetParam(), 400, 30);
  auto bytes = save_to_memory(*index);
  auto loaded = load_from_memory(bytes);
  ASSERT_TRUE(loaded) << describe(loaded.error());
  ASSERT_EQ((*loaded)->kind(), index_kind::hnsw);
  expect_same_answers(*index, **loaded);
  auto& h = static_cast<hnsw_index&>(**loaded);
  EXPECT_EQ(h.free_slots(), 30u);
  EXPECT_EQ(h.quantizer_trained(), GetParam() == quantization_kind::int8);
  EXPECT_TRUE(check_invariants(h).ok());
  // The loaded index keeps working: inserts reuse the free slots, removals repair.
  std::vector<float> v(12, 0.5f);
  ASSERT_TRUE(h.add(1, v));
  ASSERT_TRUE(h.remove(101));
  EXPECT_EQ(h.free_slots(), 30u);
  EXPECT_TRUE(check_invariants(h).ok());
  // And saving it again gives the same bytes as saving the original after the same changes.
  ASSERT_TRUE(index->add(1, v));
  ASSERT_TRUE(index->remove(101));
  EXPECT_EQ(save_to_memory(*index), save_to_memory(h));
}

TEST_P(HnswSnapshot, EveryTruncationIsAnError) {
  auto index = small_hnsw(GetParam(), 60, 5);
  auto bytes = save_to_memory(*index);
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = load_from_memory({bytes.data(), len});
    ASSERT_FALSE(r) << "loaded from " << len << " of " << bytes.size() << " bytes";
    EXPECT_TRUE(r.error() == errc::truncated_file || r.error() == errc::corrupt_file)
        << len << ": " << describe(r.error());
  }
}

TEST_P(HnswSnapshot, BitFlipsAreDetected) {
  auto index = small_hnsw(GetParam(), 60, 5);
  auto bytes = save_to_memory(*index);
  test::seeded_rng rng(63);
  for (int trial = 0; trial < 400; ++trial) {
    auto damaged = bytes;
    const size_t at = trial < 64 ? static_cast<size_t>(trial) : rng.below(damaged.size());
    damaged[at] ^= static_cast<std::byte>(1u << rng.below(8));
    auto r = load_from_memory(damaged);
    ASSERT_FALSE(r) << "a flipped bit at " << at << " went unnoticed";
  }
}

INSTANTIATE_TEST_SUITE_P(Quantization, HnswSnapshot,
                         ::testing::Values(quantization_kind::none, quantization_kind::int8),
                         [](const auto& p) { return std::string(to_string(p.param)); });

// A file whose checksums are all valid but whose structure lies (as only a buggy or hostile
// writer could produce) must still be refused.
TEST(HnswSnapshot, ConsistentChecksumsWithBadLinksAreRefused) {
  auto index = small_hnsw(quantization_kind::none, 60, 0);
  auto bytes = save_to_memory(*index);
  // Section 2 (level 0) starts after the 64-byte header and section 1 (16 + 37 + 4 bytes).
  const size_t level0_head = 64 + 16 + 37 + 4;
  uint64_t length;
  std::memcpy(&length, bytes.data() + level0_head + 8, 8);
  std::byte* payload = bytes.data() + level0_head + 16;
  const uint32_t bogus = 1'000'000;
  std::memcpy(payload + 4, &bogus, 4);  // slot 0, first level-0 link
  const uint32_t crc = crc32c(0, payload, length);
  std::memcpy(payload + length, &crc, 4);
  auto r = load_from_memory(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::corrupt_file);
}

TEST(Snapshot, FlatRoundTripAndFiles) {
  flat_config c;
  c.dim = 5;
  c.metric = metric_kind::manhattan;
  auto flat = flat_index::create(c).value();
  auto data = test::uniform_vectors(300, 5, 64);
  std::vector<label_t> labels(300);
  for (size_t i = 0; i < 300; ++i) labels[i] = i * 11;
  ASSERT_TRUE(flat->add_batch(labels, data));
  test::tmpdir dir;
  const std::string path = (dir / "flat.idx").string();
  ASSERT_TRUE(flat->save(path));
  auto loaded = load_index(path);
  ASSERT_TRUE(loaded) << describe(loaded.error());
  EXPECT_EQ((*loaded)->kind(), index_kind::flat);
  expect_same_answers(*flat, **loaded);
  auto bytes = save_to_memory(*flat);
  for (size_t len = 0; len < bytes.size(); len += 7) {
    ASSERT_FALSE(load_from_memory({bytes.data(), len}));
  }
  EXPECT_EQ(load_index((dir / "missing.idx").string()).error(), errc::io_error);
}

TEST(Snapshot, ForeignAndFutureFilesAreRefused) {
  auto index = small_hnsw(quantization_kind::none, 30, 0);
  auto bytes = save_to_memory(*index);
  std::vector<std::byte> text(200, std::byte{'x'});
  EXPECT_EQ(load_from_memory(text).error(), errc::corrupt_file);
  EXPECT_EQ(load_from_memory({}).error(), errc::truncated_file);
  // A newer major version with a valid header checksum.
  auto future = bytes;
  const uint16_t major = 2;
  std::memcpy(future.data() + 8, &major, 2);
  const uint32_t crc = crc32c(0, future.data(), 60);
  std::memcpy(future.data() + 60, &crc, 4);
  EXPECT_EQ(load_from_memory(future).error(), errc::unsupported_version);
  // The HNSW loader refuses a flat file and vice versa.
  io::file_header h;
  h.kind = index_kind::flat;
  h.dim = 3;
  memory_source src(bytes);
  auto header = io::read_header(src);
  ASSERT_TRUE(header);
  EXPECT_EQ(flat_index::load_body(*header, src).error(), errc::wrong_index_kind);
}

TEST(Snapshot, EmptyIndexesRoundTrip) {
  hnsw_config c;
  c.dim = 3;
  auto empty = hnsw_index::create(c).value();
  auto loaded = load_from_memory(save_to_memory(*empty));
  ASSERT_TRUE(loaded) << describe(loaded.error());
  EXPECT_EQ((*loaded)->size(), 0u);
  std::vector<neighbor> out(1);
  const float q[3] = {1, 2, 3};
  EXPECT_EQ((*loaded)->search(q, 1, out).value(), 0u);
  ASSERT_TRUE((*loaded)->add(5, q));
  EXPECT_EQ((*loaded)->search(q, 1, out).value(), 1u);
}

}  // namespace
}  // namespace shoal::index
