// A shard's replication surface on its own (shard_replica.cc): a follower applies what its
// leader wrote and ends in the same state; client writes on a follower are refused; terms fence
// old leaders; a returning leader cuts what it never shipped and catches up; the term history
// survives restarts and refuses corrupt files.
#include <gtest/gtest.h>

#include "engine/shard/errc.h"
#include "engine/shard/shard.h"
#include "engine/shard/term_history.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"
#include "tests/unit/shard/replica_support.h"

namespace shoal::shard {
namespace {

using namespace test_support;
using shoal::test::run_on_runtime;

TEST(TermHistory, LooksUpTermsAndEnds) {
  term_history h;
  EXPECT_EQ(h.term_at(5), 0u);
  EXPECT_EQ(h.end_of(1, 9), 9u);
  EXPECT_TRUE(h.begin(1, 1));
  EXPECT_TRUE(h.begin(3, 10));
  EXPECT_FALSE(h.begin(2, 20)) << "older term";
  EXPECT_FALSE(h.begin(4, 5)) << "starts before the newest term";
  EXPECT_TRUE(h.begin(5, 20));
  EXPECT_EQ(h.term_at(0), 0u);
  EXPECT_EQ(h.term_at(1), 1u);
  EXPECT_EQ(h.term_at(9), 1u);
  EXPECT_EQ(h.term_at(10), 3u);
  EXPECT_EQ(h.term_at(100), 5u);
  EXPECT_EQ(h.end_of(1, 30), 9u);
  EXPECT_EQ(h.end_of(2, 30), 9u) << "a term this log never had ends where the one before did";
  EXPECT_EQ(h.end_of(3, 30), 19u);
  EXPECT_EQ(h.end_of(5, 30), 30u);
  EXPECT_EQ(h.end_of(0, 30), 0u);
  EXPECT_TRUE(h.begin(6, 20)) << "term 5 wrote nothing: 6 replaces it";
  EXPECT_EQ(h.entries().size(), 3u);
  h.truncate_after(15);
  EXPECT_EQ(h.current_term(), 3u);

  auto bytes = h.encode();
  auto back = term_history::decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, h);
  for (size_t i = 0; i < bytes.size(); ++i) {  // every single-byte corruption is caught
    auto bad = bytes;
    bad[i] ^= std::byte{0x40};
    EXPECT_FALSE(term_history::decode(bad)) << "byte " << i;
  }
  EXPECT_FALSE(term_history::decode(std::span(bytes).first(bytes.size() - 1)));
}

TEST(ShardReplica, FollowerAppliesTheLeadersLogAndRefusesClientWrites) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a = co_await shard::open(options(dir.path() / "a"));
    auto b = co_await shard::open(options(dir.path() / "b"));
    CO_ASSERT_TRUE(a && b);
    shard& leader = **a;
    shard& follower = **b;
    CO_ASSERT_TRUE(co_await leader.become_leader(1));
    CO_ASSERT_TRUE(co_await follower.become_follower(1));
    auto refused = co_await follower.write(points(0, 1), {});
    CO_ASSERT_TRUE(!refused);
    EXPECT_EQ(refused.error(), errc::not_leader);

    CO_ASSERT_TRUE(co_await leader.write(points(0, 100), {}));
    delete_mutation d;
    d.ids = {data::point_id::number(3), data::point_id::number(4)};
    CO_ASSERT_TRUE(co_await leader.write(d, {}));
    CO_ASSERT_TRUE(co_await catch_up(leader, follower));
    EXPECT_EQ(state_of(follower), state_of(leader));
    EXPECT_EQ(follower.position().last_lsn, leader.position().last_lsn);
    EXPECT_EQ(follower.position().last_term, 1u);

    // Records that do not continue the follower's log change nothing.
    auto recs = co_await leader.read_log(1, 1 << 20);
    CO_ASSERT_TRUE(recs && !recs->empty());
    auto before = state_of(follower);
    auto gap = co_await follower.append_replicated(1, 0, 0, *recs, true);
    CO_ASSERT_TRUE(!gap);
    EXPECT_EQ(gap.error(), errc::log_mismatch);
    auto last = follower.position().last_lsn;
    std::vector<wal::log_record> wrong_term{
        wal::log_record{last + 1, 7, recs->front().type, recs->front().body}};
    auto newer = co_await follower.append_replicated(1, last, 1, wrong_term, true);
    CO_ASSERT_TRUE(!newer);
    EXPECT_EQ(newer.error(), errc::log_mismatch) << "a record newer than its sender's term";
    auto stale = co_await follower.append_replicated(0, last, 1, {}, true);
    CO_ASSERT_TRUE(!stale);
    EXPECT_EQ(stale.error(), errc::stale_term);
    EXPECT_EQ(state_of(follower), before);

    // A leader told of a newer term steps down.
    CO_ASSERT_TRUE(co_await follower.become_leader(2));
    auto old_stale = co_await follower.become_leader(1);
    EXPECT_FALSE(old_stale);
    auto fenced = co_await follower.append_replicated(1, last, 1, {}, true);
    CO_ASSERT_TRUE(!fenced);
    EXPECT_EQ(fenced.error(), errc::stale_term);
    co_await leader.close();
    co_await follower.close();
  });
}

TEST(ShardReplica, ReturningLeaderCutsWhatItNeverShippedAndCatchesUp) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a = co_await shard::open(options(dir.path() / "a"));
    auto b = co_await shard::open(options(dir.path() / "b"));
    CO_ASSERT_TRUE(a && b);
    CO_ASSERT_TRUE(co_await (*a)->become_leader(1));
    CO_ASSERT_TRUE(co_await (*b)->become_follower(1));
    CO_ASSERT_TRUE(co_await (*a)->write(points(0, 50), {}));
    CO_ASSERT_TRUE(co_await catch_up(**a, **b));
    uint64_t shipped = (*b)->position().last_lsn;
    // A writes more that B never sees (A's lease lapses; it is partitioned away).
    CO_ASSERT_TRUE(co_await (*a)->write(points(50, 90, 1), {}));
    CO_ASSERT_TRUE(co_await (*a)->write(points(0, 10, 1), {}));
    EXPECT_GT((*a)->position().last_lsn, shipped);
    // B takes over in term 2 and writes on top of what it had.
    CO_ASSERT_TRUE(co_await (*b)->become_leader(2));
    CO_ASSERT_TRUE(co_await (*b)->write(points(200, 240, 2), {}));
    EXPECT_EQ((*b)->term_at((*b)->position().last_lsn), 2u);
    // A returns as a follower: it keeps exactly the shared prefix, then has B's log.
    CO_ASSERT_TRUE(co_await (*a)->become_follower(2));
    EXPECT_EQ((*b)->end_of_term(1), shipped);
    CO_ASSERT_TRUE(co_await catch_up(**b, **a));
    EXPECT_EQ(state_of(**a), state_of(**b));
    EXPECT_EQ((*a)->stats().points, 90u) << "50 + 40, none of A's unshipped points";
    auto refused = co_await (*a)->write(points(0, 1), {});
    EXPECT_FALSE(refused);

    // Both restart with their terms and the same state.
    auto want = state_of(**b);
    auto pos = (*a)->position();
    co_await (*a)->close();
    co_await (*b)->close();
    auto a2 = co_await shard::open(options(dir.path() / "a"));
    CO_ASSERT_TRUE(a2);
    EXPECT_EQ(state_of(**a2), want);
    EXPECT_EQ((*a2)->position().last_lsn, pos.last_lsn);
    EXPECT_EQ((*a2)->term_at(shipped), 1u);
    EXPECT_EQ((*a2)->term_at(pos.last_lsn), 2u);
    EXPECT_EQ((*a2)->position().term, 2u);
    co_await (*a2)->close();
  });
}

TEST(ShardReplica, CannotCutBelowASnapshotAndRefusesACorruptTermFile) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    {
      auto a = co_await shard::open(options(dir.path()));
      CO_ASSERT_TRUE(a);
      CO_ASSERT_TRUE(co_await (*a)->become_leader(1));
      CO_ASSERT_TRUE(co_await (*a)->write(points(0, 40), {}));
      CO_ASSERT_TRUE(co_await (*a)->snapshot_now());
      CO_ASSERT_TRUE(co_await (*a)->write(points(40, 60), {}));
      auto snap = (*a)->position().snapshot_lsn;
      auto cut = co_await (*a)->truncate_after(snap - 1);
      CO_ASSERT_TRUE(!cut);
      EXPECT_EQ(cut.error(), errc::needs_snapshot);
      CO_ASSERT_TRUE(co_await (*a)->truncate_after(snap));
      EXPECT_EQ((*a)->stats().points, 40u);
      EXPECT_EQ((*a)->position().last_lsn, snap);
      co_await (*a)->close();
    }
    {
      std::FILE* f = std::fopen((dir.path() / "terms").c_str(), "r+b");
      CO_ASSERT_TRUE(f != nullptr);
      std::fseek(f, 20, SEEK_SET);
      std::fputc(0x7f, f);
      std::fclose(f);
      auto a = co_await shard::open(options(dir.path()));
      CO_ASSERT_TRUE(!a);
      EXPECT_EQ(a.error(), errc::corrupt_terms);
    }
  });
}

}  // namespace
}  // namespace shoal::shard
