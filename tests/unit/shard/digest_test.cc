// The replica digest (engine/shard/replica_digest.h): the checksum does not depend on the order
// of writes, the slots points occupy or the index kind; a deleted and re-written point counts
// as before; one changed payload byte, vector bit or vector name changes it; payload key order
// does not. The checksum the shard keeps on every apply equals one computed from scratch after
// random writes, across a restart from snapshot + log, after a cut suffix and on a follower that
// installed its leader's snapshot.
#include <algorithm>
#include <bit>
#include <random>

#include <gtest/gtest.h>

#include "engine/shard/errc.h"
#include "engine/shard/replica_digest.h"
#include "engine/shard/shard.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::shard {
namespace {

using shoal::test::run_on_runtime;

/// Three named vectors: "a" (8-d) and "c" (4-d) Cosine, "b" (4-d) Euclid.
std::shared_ptr<const collection_config> config(index::index_kind kind) {
  auto c = std::make_shared<collection_config>();
  c->name = "test";
  c->named_vectors = true;
  auto add = [&](std::string name, uint32_t dim, index::metric_kind metric) {
    vector_params p;
    p.size = dim;
    p.metric = metric;
    p.kind = kind;
    p.m = 8;
    p.ef_construct = 32;
    c->vectors.emplace_back(std::move(name), p);
  };
  add("a", 8, index::metric_kind::cosine);
  add("b", 4, index::metric_kind::l2);
  add("c", 4, index::metric_kind::cosine);
  return c;
}

shard_options options(const std::filesystem::path& dir,
                      index::index_kind kind = index::index_kind::flat) {
  shard_options o;
  o.dir = dir;
  o.config = config(kind);
  o.upsert_chunk_points = 16;
  o.chunk_budget = std::chrono::seconds(10);
  o.snapshot_on_close = false;
  return o;
}

std::vector<float> vec(uint64_t seed, uint32_t dim) {
  std::mt19937 rng(static_cast<uint32_t>(seed * 7 + dim));
  std::normal_distribution<float> d;
  std::vector<float> v(dim);
  for (auto& x : v) x = d(rng);
  return v;
}

data::json_value payload_for(uint64_t i) {
  data::json_value p{data::json_value::object{}};
  p.set("n", static_cast<int64_t>(i));
  p.set("name", "point " + std::to_string(i));
  if (i % 3 == 0) p.set("tags", data::json_value::array{"x", "y"});
  return p;
}

/// Point i: vectors a and b, c on every other point; the payload above.
point_write point(uint64_t i) {
  point_write w;
  w.id = data::point_id::number(i);
  w.vectors.push_back({"a", vec(i, 8)});
  w.vectors.push_back({"b", vec(i + 1000, 4)});
  if (i % 2 == 0) w.vectors.push_back({"c", vec(i + 2000, 4)});
  w.payload = payload_for(i);
  return w;
}

upsert_mutation upsert(std::vector<point_write> pts) {
  upsert_mutation u;
  u.points = std::move(pts);
  return u;
}

upsert_mutation range(uint64_t from, uint64_t to) {
  std::vector<point_write> pts;
  for (uint64_t i = from; i < to; ++i) pts.push_back(point(i));
  return upsert(std::move(pts));
}

delete_mutation deletes(std::vector<uint64_t> ids) {
  delete_mutation d;
  for (auto i : ids) d.ids.push_back(data::point_id::number(i));
  return d;
}

replica_digest digest_of(const shard& s) {
  auto d = s.digest();
  EXPECT_TRUE(d.has_value());
  auto kept = d ? *d : replica_digest{};
  EXPECT_EQ(kept.checksum, s.checksum_from_scratch()) << "kept and recomputed checksums differ";
  return kept;
}

TEST(ReplicaDigest, DoesNotDependOnWriteOrderSlotsOrIndexKind) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a = co_await shard::open(options(dir.path() / "a", index::index_kind::flat));
    auto b = co_await shard::open(options(dir.path() / "b", index::index_kind::hnsw));
    CO_ASSERT_TRUE(a && b);
    // A: 0..200 in order, once.
    CO_ASSERT_TRUE(co_await (*a)->write(range(0, 200), {}));
    // B: other points first (so every slot differs), deleted; 0..200 shuffled in pieces, some
    // written first with other content and then overwritten.
    CO_ASSERT_TRUE(co_await (*b)->write(range(500, 620), {}));
    std::vector<uint64_t> gone;
    for (uint64_t i = 500; i < 620; ++i) gone.push_back(i);
    CO_ASSERT_TRUE(co_await (*b)->write(deletes(gone), {}));
    std::vector<uint64_t> order(200);
    for (uint64_t i = 0; i < 200; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(3));
    for (size_t at = 0; at < order.size(); at += 37) {
      std::vector<point_write> pts;
      for (size_t j = at; j < std::min(order.size(), at + 37); ++j) {
        auto p = point(order[j] % 5 == 0 ? order[j] + 7000 : order[j]);
        p.id = data::point_id::number(order[j]);
        pts.push_back(std::move(p));
      }
      CO_ASSERT_TRUE(co_await (*b)->write(upsert(std::move(pts)), {}));
    }
    std::vector<point_write> fix;
    for (uint64_t i = 0; i < 200; i += 5) fix.push_back(point(i));
    CO_ASSERT_TRUE(co_await (*b)->write(upsert(std::move(fix)), {}));

    auto da = digest_of(**a), db = digest_of(**b);
    EXPECT_EQ(da.points, 200u);
    EXPECT_EQ(db.points, 200u);
    EXPECT_NE(da.lsn, db.lsn);
    EXPECT_EQ(da.checksum, db.checksum) << da.checksum.hex() << " vs " << db.checksum.hex();
    EXPECT_NE(da.checksum, replica_checksum{});
    EXPECT_EQ(da.checksum.hex().size(), 32u);

    // One point more on one side: different.
    CO_ASSERT_TRUE(co_await (*a)->write(range(200, 201), {}));
    EXPECT_NE(digest_of(**a).checksum, db.checksum);
    co_await (*a)->close();
    co_await (*b)->close();
  });
}

TEST(ReplicaDigest, ADeletedPointWrittenAgainCountsAsBefore) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto s = co_await shard::open(options(dir.path()));
    CO_ASSERT_TRUE(s);
    CO_ASSERT_TRUE(co_await (*s)->write(range(0, 50), {}));
    auto before = digest_of(**s);
    CO_ASSERT_TRUE(co_await (*s)->write(deletes({7, 8}), {}));
    auto without = digest_of(**s);
    EXPECT_EQ(without.points, 48u);
    EXPECT_NE(without.checksum, before.checksum);
    EXPECT_EQ(without.lsn, before.lsn + 1);
    CO_ASSERT_TRUE(co_await (*s)->write(range(7, 9), {}));
    auto again = digest_of(**s);
    EXPECT_EQ(again.checksum, before.checksum);
    EXPECT_EQ(again.points, 50u);
    EXPECT_EQ(again.lsn, before.lsn + 2);
    // Deleting everything leaves the empty checksum.
    std::vector<uint64_t> all;
    for (uint64_t i = 0; i < 50; ++i) all.push_back(i);
    CO_ASSERT_TRUE(co_await (*s)->write(deletes(all), {}));
    EXPECT_EQ(digest_of(**s).checksum, replica_checksum{});
    co_await (*s)->close();
  });
}

TEST(ReplicaDigest, OneChangedPayloadByteVectorBitOrVectorNameChangesIt) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto s = co_await shard::open(options(dir.path()));
    CO_ASSERT_TRUE(s);
    CO_ASSERT_TRUE(co_await (*s)->write(range(0, 20), {}));
    auto base = digest_of(**s).checksum;
    auto expect_changed_then_restore = [&](point_write changed,
                                           const char* what) -> awaitable<void> {
      CO_ASSERT_TRUE(co_await (*s)->write(upsert({std::move(changed)}), {}));
      auto d = digest_of(**s);
      EXPECT_NE(d.checksum.a, base.a) << what;
      EXPECT_NE(d.checksum.b, base.b) << what;
      EXPECT_EQ(d.points, 20u);
      CO_ASSERT_TRUE(co_await (*s)->write(range(4, 5), {}));
      EXPECT_EQ(digest_of(**s).checksum, base) << what << ", restored";
    };
    auto p = point(4);
    p.payload->set("name", std::string("point 5"));  // one byte
    co_await expect_changed_then_restore(std::move(p), "payload byte");
    p = point(4);
    p.payload->set("n", 4.0);  // the same number as a double
    co_await expect_changed_then_restore(std::move(p), "integer 4 stored as the double 4.0");
    p = point(4);
    p.payload->set("tags", data::json_value::array{"y", "x"});
    co_await expect_changed_then_restore(std::move(p), "array order");
    p = point(4);
    auto& b = p.vectors[1].values;  // "b" is Euclid: stored as given
    b[2] = std::bit_cast<float>(std::bit_cast<uint32_t>(b[2]) ^ 1u);
    co_await expect_changed_then_restore(std::move(p), "lowest bit of one float");
    p = point(4);
    p.vectors[2].name = "b";  // c's values under b, b's under c (both 4-d)
    p.vectors[1].name = "c";
    co_await expect_changed_then_restore(std::move(p), "vectors swapped between names");
    p = point(4);
    p.vectors.pop_back();  // no "c"
    co_await expect_changed_then_restore(std::move(p), "one named vector fewer");
    p = point(4);
    p.sparse_json = R"({"s":{"indices":[1],"values":[0.5]}})";
    co_await expect_changed_then_restore(std::move(p), "sparse vectors");
    p = point(4);
    p.id = data::point_id::number(21);
    CO_ASSERT_TRUE(co_await (*s)->write(deletes({4}), {}));
    CO_ASSERT_TRUE(co_await (*s)->write(upsert({std::move(p)}), {}));
    EXPECT_NE(digest_of(**s).checksum, base) << "the same point under another id";
    co_await (*s)->close();
  });
}

TEST(ReplicaDigest, PayloadKeyOrderDoesNotMatter) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a = co_await shard::open(options(dir.path() / "a"));
    auto b = co_await shard::open(options(dir.path() / "b"));
    CO_ASSERT_TRUE(a && b);
    // A: {"x": 1, "y": {"p": true, "q": null}} in one upsert.
    auto pa = point(1);
    pa.payload = data::json_value::parse(R"({"x":1,"y":{"p":true,"q":null}})").value();
    CO_ASSERT_TRUE(co_await (*a)->write(upsert({pa}), {}));
    // B: {"y": {"q": null, "p": true}} then set_payload {"x": 1}: the keys in another order.
    auto pb = point(1);
    pb.payload = data::json_value::parse(R"({"y":{"q":null,"p":true}})").value();
    CO_ASSERT_TRUE(co_await (*b)->write(upsert({pb}), {}));
    payload_mutation set;
    set.type = mutation_type::set_payload;
    set.ids = {data::point_id::number(1)};
    set.payload = data::json_value::parse(R"({"x":1})").value();
    CO_ASSERT_TRUE(co_await (*b)->write(set, {}));
    EXPECT_EQ(digest_of(**a).checksum, digest_of(**b).checksum);
    // A different value under one key is not the same payload.
    set.payload = data::json_value::parse(R"({"x":2})").value();
    CO_ASSERT_TRUE(co_await (*b)->write(set, {}));
    EXPECT_NE(digest_of(**a).checksum, digest_of(**b).checksum);
    EXPECT_NE(payload_hash(data::json_value::parse(R"({"a":"b"})").value()),
              payload_hash(data::json_value::parse(R"({"b":"a"})").value()));
    EXPECT_NE(payload_hash(data::json_value::parse(R"({"a":{}})").value()),
              payload_hash(data::json_value::parse(R"({"a":[]})").value()));
    co_await (*a)->close();
    co_await (*b)->close();
  });
}

/// A random write: upserts (some with fewer vectors, sparse or no payload), deletes, and every
/// kind of payload change, over ids 0..150.
mutation random_write(std::mt19937& rng) {
  auto id = [&] { return data::point_id::number(rng() % 150); };
  switch (rng() % 8) {
    case 0:
    case 1:
    case 2: {
      std::vector<point_write> pts;
      for (int n = 1 + static_cast<int>(rng() % 20); n > 0; --n) {
        auto p = point(rng() % 100000);
        p.id = id();
        if (rng() % 4 == 0) p.payload.reset();
        if (rng() % 5 == 0) p.vectors.erase(p.vectors.begin() + (rng() % p.vectors.size()));
        if (rng() % 7 == 0) p.sparse_json = R"({"s":{"indices":[3],"values":[1]}})";
        pts.push_back(std::move(p));
      }
      return upsert(std::move(pts));
    }
    case 3: {
      delete_mutation d;
      for (int n = 1 + static_cast<int>(rng() % 10); n > 0; --n) d.ids.push_back(id());
      return d;
    }
    default: {
      payload_mutation m;
      for (int n = 1 + static_cast<int>(rng() % 10); n > 0; --n) m.ids.push_back(id());
      switch (rng() % 5) {
        case 0:
          m.type = mutation_type::set_payload;
          m.payload = data::json_value::parse(R"({"k":)" + std::to_string(rng() % 9) + "}").value();
          if (rng() % 2) m.key = "nested.deeper";
          break;
        case 1:
          m.type = mutation_type::overwrite_payload;
          m.payload = payload_for(rng() % 1000);
          break;
        case 2:
          m.type = mutation_type::delete_payload_keys;
          m.keys = {"name", "k"};
          break;
        case 3:
          m.type = mutation_type::clear_payload;
          break;
        default:
          m.type = mutation_type::set_payload;
          m.payload = data::json_value::parse(R"({"n":"s","extra":[1,2.5]})").value();
          break;
      }
      return m;
    }
  }
}

TEST(ReplicaDigest, KeptChecksumEqualsRecomputedAfterRandomWritesAndRestarts) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    for (auto kind : {index::index_kind::flat, index::index_kind::hnsw}) {
      auto where = dir.path() / (kind == index::index_kind::flat ? "flat" : "hnsw");
      replica_digest want;
      {
        auto s = co_await shard::open(options(where, kind));
        CO_ASSERT_TRUE(s);
        std::mt19937 rng(kind == index::index_kind::flat ? 11 : 12);
        for (int i = 0; i < 600; ++i) {
          CO_ASSERT_TRUE(co_await (*s)->write(random_write(rng), {}));
          auto d = (*s)->digest();
          CO_ASSERT_TRUE(d);
          if (d->checksum != (*s)->checksum_from_scratch()) {
            ADD_FAILURE() << "write " << i << ": the kept checksum drifted";
            co_return;
          }
          if (i == 300) CO_ASSERT_TRUE(co_await (*s)->snapshot_now());
        }
        want = digest_of(**s);
        EXPECT_GT(want.points, 50u);
        co_await (*s)->close();
      }
      // Snapshot at write 300 + replay of the log after it.
      {
        auto s = co_await shard::open(options(where, kind));
        CO_ASSERT_TRUE(s);
        auto d = digest_of(**s);
        EXPECT_EQ(d.lsn, want.lsn);
        EXPECT_EQ(d.points, want.points);
        EXPECT_EQ(d.checksum, want.checksum) << "after snapshot + log";
        CO_ASSERT_TRUE(co_await (*s)->snapshot_now());
        co_await (*s)->close();
      }
      // The snapshot alone.
      auto s = co_await shard::open(options(where, kind));
      CO_ASSERT_TRUE(s);
      EXPECT_EQ(digest_of(**s).checksum, want.checksum) << "after a snapshot alone";
      co_await (*s)->close();
    }
  });
}

TEST(ReplicaDigest, FollowerThatInstallsItsLeadersSnapshotOrCutsASuffixMatchesIt) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a = co_await shard::open(options(dir.path() / "a"));
    auto b = co_await shard::open(options(dir.path() / "b", index::index_kind::hnsw));
    CO_ASSERT_TRUE(a && b);
    shard& leader = **a;
    shard& follower = **b;
    CO_ASSERT_TRUE(co_await leader.become_leader(1));
    CO_ASSERT_TRUE(co_await follower.become_leader(1));
    std::mt19937 rng(5);
    for (int i = 0; i < 100; ++i) CO_ASSERT_TRUE(co_await leader.write(random_write(rng), {}));
    // The follower led too (its own writes in term 1: the suffix to lose).
    for (int i = 0; i < 5; ++i) CO_ASSERT_TRUE(co_await follower.write(random_write(rng), {}));
    auto link = dir.path() / "export.snap";
    auto lsn = co_await leader.export_snapshot(link);
    CO_ASSERT_TRUE(lsn);
    CO_ASSERT_TRUE(co_await follower.become_follower(2));
    auto incoming = dir.path() / "b" / "incoming.snap";
    std::filesystem::copy_file(link, incoming);
    CO_ASSERT_TRUE(co_await follower.install_snapshot(incoming, *lsn, leader.terms()));
    auto dl = digest_of(leader), df = digest_of(follower);
    EXPECT_EQ(df.lsn, dl.lsn);
    EXPECT_EQ(df.term, 1u);
    EXPECT_EQ(df.term, dl.term);
    EXPECT_EQ(df.points, dl.points);
    EXPECT_EQ(df.checksum, dl.checksum);

    // The follower receives records of term 2, then a cut removes them: it is back at the
    // leader's digest at that LSN.
    CO_ASSERT_TRUE(co_await leader.become_leader(2));
    for (int i = 0; i < 3; ++i) CO_ASSERT_TRUE(co_await leader.write(random_write(rng), {}));
    auto recs = co_await leader.read_log(dl.lsn + 1, 1 << 20);
    CO_ASSERT_TRUE(recs && recs->size() == 3);
    CO_ASSERT_TRUE(co_await follower.append_replicated(2, dl.lsn, 1, *recs, true));
    EXPECT_EQ(digest_of(follower).checksum, digest_of(leader).checksum);
    EXPECT_EQ(digest_of(follower).lsn, dl.lsn + 3);
    EXPECT_EQ(digest_of(follower).term, 2u);
    CO_ASSERT_TRUE(co_await follower.truncate_after(dl.lsn));
    auto cut = digest_of(follower);
    EXPECT_EQ(cut.lsn, dl.lsn);
    EXPECT_EQ(cut.checksum, dl.checksum);
    co_await leader.close();
    co_await follower.close();
  });
}

}  // namespace
}  // namespace shoal::shard
