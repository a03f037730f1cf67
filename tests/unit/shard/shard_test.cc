// A shard on its own: writes, reads, filters, payload indexes, restart from log and from
// snapshot, corrupt snapshots, chunked upserts, the memory budget, and reload after a failed write.
#include "engine/shard/shard.h"

#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "engine/common/crc32c.h"
#include "engine/common/file_io.h"
#include "engine/data/filter_json.h"
#include "engine/shard/errc.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::shard {
namespace {

using shoal::test::run_on_runtime;

std::shared_ptr<const collection_config> config(index::index_kind kind = index::index_kind::flat,
                                                uint32_t dim = 8) {
  auto c = std::make_shared<collection_config>();
  c->name = "test";
  vector_params p;
  p.size = dim;
  p.metric = index::metric_kind::l2;
  p.kind = kind;
  p.m = 8;
  p.ef_construct = 64;
  c->vectors.emplace_back("", p);
  return c;
}

std::vector<float> vec(uint64_t seed, uint32_t dim = 8) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> d;
  std::vector<float> v(dim);
  for (auto& x : v) x = d(rng);
  return v;
}

data::json_value payload_for(uint64_t i) {
  data::json_value p{data::json_value::object{}};
  p.set("group", static_cast<int64_t>(i % 10));
  p.set("name", "point " + std::to_string(i));
  if (i % 3 == 0) p.set("tags", data::json_value::array{data::json_value("three")});
  return p;
}

upsert_mutation points(uint64_t from, uint64_t to) {
  upsert_mutation u;
  for (uint64_t i = from; i < to; ++i) {
    point_write w;
    w.id = data::point_id::number(i);
    w.vectors.push_back({"", vec(i)});
    w.payload = payload_for(i);
    u.points.push_back(std::move(w));
  }
  return u;
}

std::shared_ptr<const data::filter> filter_of(const std::string& json) {
  simdjson::dom::parser p;
  auto f = data::decode_filter(p.parse(json).value());
  return std::make_shared<data::filter>(f.value());
}

shard_options options(const std::filesystem::path& dir,
                      index::index_kind kind = index::index_kind::flat) {
  shard_options o;
  o.dir = dir;
  o.config = config(kind);
  o.upsert_chunk_points = 64;
  // Chunks sized by points only: with the default time budget a chunk preempted on a busy
  // machine (or slowed by a sanitizer) shrinks the next ones, and the LSN counts would vary.
  o.chunk_budget = std::chrono::seconds(10);
  return o;
}

/// Brute force: ids of the k nearest points (l2) among those passing `pass`.
std::vector<uint64_t> nearest(const std::vector<float>& q, uint64_t n, size_t k,
                              const std::function<bool(uint64_t)>& pass) {
  std::vector<std::pair<float, uint64_t>> d;
  for (uint64_t i = 0; i < n; ++i) {
    if (!pass(i)) continue;
    auto v = vec(i);
    float s = 0;
    for (size_t j = 0; j < v.size(); ++j) s += (v[j] - q[j]) * (v[j] - q[j]);
    d.emplace_back(s, i);
  }
  std::sort(d.begin(), d.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < std::min(k, d.size()); ++i) out.push_back(d[i].second);
  return out;
}

std::vector<uint64_t> ids_of(const std::vector<point_view>& v) {
  std::vector<uint64_t> out;
  for (auto& p : v) out.push_back(p.id.number_value());
  return out;
}

TEST(Shard, WritesReadsAndFiltersAgreeWithBruteForce) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto s = co_await shard::open(options(dir.path()));
    CO_ASSERT_TRUE(s.has_value());
    auto ack = co_await (*s)->write(points(0, 300), {});
    CO_ASSERT_TRUE(ack.has_value());
    EXPECT_EQ(ack->lsn, 5u) << "300 points in chunks of 64";
    EXPECT_EQ((*s)->stats().points, 300u);

    index::search_scratch scratch;
    search_query q;
    q.vector = vec(1000);
    q.limit = 10;
    auto r = (*s)->search(q, scratch);
    CO_ASSERT_TRUE(r.has_value());
    EXPECT_EQ(ids_of(*r), nearest(q.vector, 300, 10, [](uint64_t) { return true; }));
    EXPECT_FALSE((*r)[0].with_payload);

    q.filter = filter_of(R"({"must": {"key": "group", "match": {"value": 3}}})");
    q.with_payload = payload_selector::all();
    r = (*s)->search(q, scratch);
    CO_ASSERT_TRUE(r.has_value());
    EXPECT_EQ(ids_of(*r), nearest(q.vector, 300, 10, [](uint64_t i) { return i % 10 == 3; }));
    EXPECT_EQ((*r)[0].payload.find("group")->as_integer(), 3);

    // A payload index gives the same answers.
    CO_ASSERT_TRUE(co_await (*s)->create_payload_index("group", data::payload_type::integer));
    auto indexed = (*s)->search(q, scratch);
    EXPECT_EQ(ids_of(*indexed), ids_of(*r));
    EXPECT_EQ(
        (*s)->count(filter_of(R"({"must": {"key": "group", "match": {"any": [1, 2]}}})").get()),
        60u);
    EXPECT_EQ(
        (*s)->count(filter_of(R"({"must": {"key": "tags", "match": {"value": "three"}}})").get()),
        100u);

    // Scroll: id order, pages of 7 from an offset, filtered.
    scroll_query sq;
    sq.from = data::point_id::number(250);
    sq.limit = 7;
    sq.filter = filter_of(R"({"must_not": {"key": "group", "match": {"value": 5}}})");
    auto page = (*s)->scroll(sq);
    EXPECT_EQ(ids_of(page), (std::vector<uint64_t>{250, 251, 252, 253, 254, 256, 257, 258}));

    // Payload changes and deletes.
    payload_mutation set;
    set.type = mutation_type::set_payload;
    set.ids = {data::point_id::number(1)};
    set.payload = *data::json_value::parse(R"({"group": 42, "extra": true})");
    CO_ASSERT_TRUE(co_await (*s)->write(set, {}));
    auto got = (*s)->retrieve({data::point_id::number(1)}, payload_selector::all(), {});
    EXPECT_EQ(got.at(0).payload.to_json(), R"({"group":42,"name":"point 1","extra":true})");
    EXPECT_EQ((*s)->count(filter_of(R"({"must": {"key": "group", "match": {"value": 42}}})").get()),
              1u);
    CO_ASSERT_TRUE(co_await (*s)->delete_matching(
        filter_of(R"({"must": {"key": "group", "match": {"value": 0}}})"), {}));
    EXPECT_EQ((*s)->stats().points, 270u);
    co_await (*s)->close();
  });
}

TEST(Shard, RestartsFromTheLogAndFromASnapshotToTheSameState) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto opts = options(dir.path(), index::index_kind::hnsw);
    opts.snapshot_on_close = false;
    std::string before;
    auto state_of = [](shard& s) {
      scroll_query q;
      q.limit = 100000;
      q.with_vector = vector_selector::everything();
      std::string out;
      for (auto& p : s.scroll(q)) {
        out += p.id.to_string() + p.payload.to_json() + std::to_string(p.vectors.size()) + ";";
      }
      return out;
    };
    {
      auto s = co_await shard::open(opts);
      CO_ASSERT_TRUE(s.has_value());
      CO_ASSERT_TRUE(co_await (*s)->write(points(0, 500), {}));
      delete_mutation d;
      for (uint64_t i = 0; i < 500; i += 4) d.ids.push_back(data::point_id::number(i));
      CO_ASSERT_TRUE(co_await (*s)->write(d, {}));
      before = state_of(**s);
      co_await (*s)->close();
    }
    recovery_info info;
    {
      auto s = co_await shard::open(opts, &info);
      CO_ASSERT_TRUE(s.has_value());
      EXPECT_EQ(info.snapshot_lsn, 0u);
      EXPECT_GT(info.replayed, 0u);
      EXPECT_EQ(state_of(**s), before);
      CO_ASSERT_TRUE(co_await (*s)->snapshot_now());
      CO_ASSERT_TRUE(co_await (*s)->write(points(1000, 1010), {}));  // after the snapshot
      before = state_of(**s);
      co_await (*s)->close();
    }
    {
      auto s = co_await shard::open(opts, &info);
      CO_ASSERT_TRUE(s.has_value());
      EXPECT_GT(info.snapshot_lsn, 0u);
      EXPECT_EQ(info.replayed, 1u) << "only the write after the snapshot is replayed";
      EXPECT_EQ(state_of(**s), before);
      index::search_scratch scratch;
      search_query q;
      q.vector = vec(1005);
      q.limit = 1;
      auto r = (*s)->search(q, scratch);
      EXPECT_EQ(r->at(0).id.number_value(), 1005u);
      co_await (*s)->close();
    }
  });
}

TEST(Shard, ACorruptSnapshotIsRefusedWithAClearError) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto opts = options(dir.path());
    {
      auto s = co_await shard::open(opts);
      CO_ASSERT_TRUE(s.has_value());
      CO_ASSERT_TRUE(co_await (*s)->write(points(0, 100), {}));
      co_await (*s)->close();  // snapshot on close
    }
    std::filesystem::path snap;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) {
      if (e.path().extension() == ".snap") snap = e.path();
    }
    CO_ASSERT_TRUE(!snap.empty());
    std::string problem;
    auto summary = inspect_snapshot(snap, &problem);
    CO_ASSERT_TRUE(summary.has_value());
    EXPECT_EQ(summary->points, 100u);
    {
      std::fstream f(snap, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(200);
      f.put('\x7f');
    }
    EXPECT_FALSE(inspect_snapshot(snap, &problem));
    EXPECT_NE(problem.find("checksum"), std::string::npos) << problem;
    auto s = co_await shard::open(opts);
    CO_ASSERT_TRUE(!s.has_value());
    EXPECT_EQ(s.error(), errc::corrupt_snapshot);
    std::filesystem::resize_file(snap, std::filesystem::file_size(snap) / 2);
    auto t = co_await shard::open(opts);
    CO_ASSERT_TRUE(!t.has_value());
  });
}

/// The points section of a snapshot file: its payload (after the 64-byte header and the
/// 16-byte section header) and, after the edit, its length and CRC written back.
struct points_section {
  std::vector<std::byte> file;
  std::vector<std::byte> payload() const {
    uint64_t length;
    std::memcpy(&length, file.data() + 72, 8);
    return {file.begin() + 80, file.begin() + 80 + static_cast<ptrdiff_t>(length)};
  }
  void replace(const std::vector<std::byte>& payload) {
    uint64_t length;
    std::memcpy(&length, file.data() + 72, 8);
    std::vector<std::byte> out(file.begin(), file.begin() + 72);
    uint64_t n = payload.size();
    out.resize(80);
    std::memcpy(out.data() + 72, &n, 8);
    out.insert(out.end(), payload.begin(), payload.end());
    uint32_t crc = crc32c(payload);
    out.resize(out.size() + 4);
    std::memcpy(out.data() + out.size() - 4, &crc, 4);
    out.insert(out.end(), file.begin() + 80 + static_cast<ptrdiff_t>(length) + 4, file.end());
    file = std::move(out);
  }
};

TEST(Shard, SnapshotSlotsMustBePaidForInTheFile) {
  // A snapshot's store allocates every slot up to the highest one, so the points section lists
  // its free slots: a slot count or a slot the file does not account for is corrupt, never an
  // allocation of gigabytes (snapshot_fuzz found one). Version 1 files, without the list, still
  // load within a bounded slot space.
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto opts = options(dir.path());
    opts.snapshot_on_close = false;
    std::filesystem::path snap;
    std::string before;
    auto state_of = [](shard& s) {
      scroll_query q;
      q.limit = 100000;
      std::string out;
      for (auto& p : s.scroll(q)) out += p.id.to_string() + p.payload.to_json() + ";";
      return out;
    };
    {
      auto s = co_await shard::open(opts);
      CO_ASSERT_TRUE(s.has_value());
      CO_ASSERT_TRUE(co_await (*s)->write(points(0, 50), {}));
      delete_mutation d;
      for (uint64_t i = 0; i < 50; i += 3) d.ids.push_back(data::point_id::number(i));
      CO_ASSERT_TRUE(co_await (*s)->write(d, {}));  // 17 free slots
      CO_ASSERT_TRUE(co_await (*s)->snapshot_now());
      before = state_of(**s);
      co_await (*s)->close();
    }
    for (auto& e : std::filesystem::directory_iterator(dir.path())) {
      if (e.path().extension() == ".snap") snap = e.path();
    }
    CO_ASSERT_TRUE(!snap.empty());
    auto bytes = fileio::read_file(snap, 1 << 20);
    CO_ASSERT_TRUE(bytes.has_value());
    const points_section good{*bytes};
    auto payload = good.payload();
    uint64_t count, slots;
    std::memcpy(&count, payload.data(), 8);
    std::memcpy(&slots, payload.data() + 8, 8);
    EXPECT_EQ(count, 33u);
    EXPECT_EQ(slots, 50u);
    auto write = [&](const std::vector<std::byte>& b) {
      ASSERT_TRUE(fileio::write_file_atomic(snap, b).has_value());
    };
    auto opens = [&]() -> awaitable<result<void>> {
      auto s = co_await shard::open(opts);
      if (!s) co_return s.error();
      EXPECT_EQ(state_of(**s), before);
      co_await (*s)->close();
      co_return result<void>{};
    };

    // A slot space of 2^32 - 1 that 17 listed free slots do not pay for.
    auto huge = good;
    auto p = payload;
    uint64_t many = UINT32_MAX;
    std::memcpy(p.data() + 8, &many, 8);
    huge.replace(p);
    write(huge.file);
    auto r = co_await opens();
    EXPECT_EQ(r.error(), errc::corrupt_snapshot);

    // The first point's slot moved past the slot count.
    auto beyond = good;
    p = payload;
    uint32_t far = 64u << 20;
    std::memcpy(p.data() + 16, &far, 4);
    beyond.replace(p);
    write(beyond.file);
    r = co_await opens();
    EXPECT_EQ(r.error(), errc::corrupt_snapshot);

    // The same snapshot in version 1: no slot count, no free list, still loads.
    auto v1 = good;
    p.assign(payload.begin(), payload.begin() + 8);
    p.insert(p.end(), payload.begin() + 16,
             payload.end() - static_cast<ptrdiff_t>((slots - count) * 4));
    v1.replace(p);
    uint16_t version = 1;
    std::memcpy(v1.file.data() + 8, &version, 2);
    uint32_t header_crc = crc32c(0, v1.file.data(), 60);
    std::memcpy(v1.file.data() + 60, &header_crc, 4);
    write(v1.file);
    r = co_await opens();
    EXPECT_TRUE(r.has_value());

    write(good.file);
    r = co_await opens();
    EXPECT_TRUE(r.has_value());
  });
}

TEST(Shard, OverTheMemoryBudgetWritesAreRefusedAndReadsGoOn) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto opts = options(dir.path());
    opts.memory_limit = 64 * 1024;
    auto s = co_await shard::open(opts);
    CO_ASSERT_TRUE(s.has_value());
    result<write_ack> r = write_ack{};
    uint64_t written = 0;
    while ((r = co_await (*s)->write(points(written, written + 50), {}))) written += 50;
    EXPECT_EQ(r.error(), errc::memory_limit);
    EXPECT_GT(written, 0u);
    EXPECT_EQ((*s)->count(nullptr), written);
    co_await (*s)->close();
  });
}

TEST(Shard, AFailedWriteIsForgottenByReloadingFromDisk) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto s = co_await shard::open(options(dir.path()));
    CO_ASSERT_TRUE(s.has_value());
    CO_ASSERT_TRUE(co_await (*s)->write(points(0, 10), {}));
    fileio::inject_fault(fileio::op::write, ENOSPC);
    auto failed = co_await (*s)->write(points(10, 11), {});
    CO_ASSERT_TRUE(!failed.has_value());
    EXPECT_EQ(failed.error().value(), ENOSPC);
    // The shard reloads in the background; then the failed point is gone and writes work.
    result<write_ack> next = errc::recovering;
    for (int i = 0; i < 200 && !next; ++i) {
      next = co_await (*s)->write(points(20, 21), {});
      if (!next) co_await shoal::test::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(next.has_value());
    EXPECT_TRUE((*s)->retrieve({data::point_id::number(10)}, {}, {}).empty());
    EXPECT_EQ((*s)->count(nullptr), 11u);
    co_await (*s)->close();
  });
}

}  // namespace
}  // namespace shoal::shard
