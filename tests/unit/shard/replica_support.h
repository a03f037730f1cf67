#pragma once
// Two shards in one process as a leader and its follower (replica_test.cc,
// replica_divergence_test.cc): a small collection, points with a tag, a shard's whole state as a
// string, and what a replication stream does between them.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "engine/shard/shard.h"
#include "engine/shard/term_history.h"

namespace shoal::shard::test_support {

inline std::shared_ptr<const collection_config> config() {
  auto c = std::make_shared<collection_config>();
  c->name = "test";
  vector_params p;
  p.size = 4;
  p.metric = index::metric_kind::l2;
  p.kind = index::index_kind::hnsw;
  p.m = 8;
  p.ef_construct = 32;
  c->vectors.emplace_back("", p);
  return c;
}

inline shard_options options(const std::filesystem::path& dir) {
  shard_options o;
  o.dir = dir;
  o.config = config();
  o.upsert_chunk_points = 16;
  // Chunks sized by points only: with the default time budget a chunk preempted on a busy
  // machine (or slowed by a sanitizer) shrinks the next ones, and the LSN counts would vary.
  o.chunk_budget = std::chrono::seconds(10);
  o.snapshot_on_close = false;
  return o;
}

inline upsert_mutation points(uint64_t from, uint64_t to, int64_t tag = 0) {
  upsert_mutation u;
  std::mt19937 rng(static_cast<uint32_t>(from * 31 + to));
  std::normal_distribution<float> d;
  for (uint64_t i = from; i < to; ++i) {
    point_write w;
    w.id = data::point_id::number(i);
    w.vectors.push_back({"", {d(rng), d(rng), d(rng), d(rng)}});
    data::json_value p{data::json_value::object{}};
    p.set("tag", tag);
    w.payload = std::move(p);
    u.points.push_back(std::move(w));
  }
  return u;
}

inline std::string state_of(const shard& s) {
  scroll_query q;
  q.limit = 1000000;
  q.with_payload = payload_selector::all();
  q.with_vector = vector_selector::everything();
  std::string out;
  for (auto& p : s.scroll(q)) {
    out += p.id.to_string() + p.payload.to_json();
    for (auto& [name, v] : p.vectors)
      for (float x : v) out += "," + std::to_string(x);
    out += ";";
  }
  return out;
}

/// What a replication stream does (log_shipper.cc): find where the follower's log leaves the
/// leader's from both term histories, cut the follower there, then ship the leader's records after
/// it in small batches.
inline awaitable<result<void>> catch_up(shard& leader, shard& follower) {
  auto fp = follower.position();
  uint64_t common = common_point({leader.terms().entries(), leader.position().last_lsn, 0},
                                 {follower.terms().entries(), fp.last_lsn, 0});
  if (common < fp.last_lsn) {
    if (auto r = co_await follower.truncate_after(common); !r) co_return r.error();
  }
  uint64_t term = leader.position().term;
  for (;;) {
    auto recs = co_await leader.read_log(common + 1, 2048);
    if (!recs) co_return recs.error();
    if (recs->empty()) co_return result<void>{};
    uint64_t last = recs->back().lsn;
    auto r = co_await follower.append_replicated(term, common, leader.term_at(common),
                                                 std::move(*recs), true);
    if (!r) co_return r.error();
    EXPECT_EQ(*r, last);
    common = last;
  }
}

}  // namespace shoal::shard::test_support
