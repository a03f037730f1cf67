// Replicas whose logs part in a term one of them never had (issue #17 scenario 3, Kafka's
// KIP-279), with real shards: term 1 wrote LSNs 1..20 on A while C held 1..10; C led term 2 and
// wrote 11..15; A leads term 3. The stream's common point (term_history.h, common_point) cuts
// C's term-2 records and C converges. A term begun and never written in gives way to the
// leader's older records.
#include <gtest/gtest.h>

#include "engine/shard/errc.h"
#include "engine/shard/shard.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"
#include "tests/unit/shard/replica_support.h"

namespace shoal::shard {
namespace {

using namespace std::chrono_literals;
using namespace test_support;
using shoal::test::run_on_runtime;

/// `n` writes of one point each (one record each), ids from `from`.
awaitable<bool> write_each(shard& s, uint64_t from, uint64_t n, int64_t tag) {
  for (uint64_t i = from; i < from + n; ++i) {
    if (!co_await s.write(points(i, i + 1, tag), {})) co_return false;
  }
  co_return true;
}

TEST(ReplicaDivergence, AFollowerWhoseLastTermTheLeaderNeverHadIsCutAndConverges) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a_open = co_await shard::open(options(dir.path() / "a"));
    auto c_open = co_await shard::open(options(dir.path() / "c"));
    CO_ASSERT_TRUE(a_open && c_open);
    shard& a = **a_open;
    shard& c = **c_open;
    CO_ASSERT_TRUE(co_await a.become_leader(1));
    CO_ASSERT_TRUE(co_await c.become_follower(1));
    CO_ASSERT_TRUE(co_await write_each(a, 0, 10, 1));
    CO_ASSERT_TRUE(co_await catch_up(a, c));
    CO_ASSERT_TRUE(co_await write_each(a, 10, 10, 1));  // C never gets these
    CO_ASSERT_EQ(a.position().last_lsn, 20u);
    CO_ASSERT_EQ(c.position().last_lsn, 10u);
    // C leads term 2 (A dead, B down) and writes 11..15.
    CO_ASSERT_TRUE(co_await c.become_leader(2));
    CO_ASSERT_TRUE(co_await write_each(c, 100, 5, 2));
    CO_ASSERT_EQ(c.position().last_lsn, 15u);
    EXPECT_EQ(c.term_at(12), 2u);
    // A leads term 3 from 21 with 1..20 of term 1.
    CO_ASSERT_TRUE(co_await a.become_leader(3));
    EXPECT_EQ(common_point({a.terms().entries(), 20, 0}, {c.terms().entries(), 15, 0}), 10u);

    CO_ASSERT_TRUE(co_await c.become_follower(3));
    CO_ASSERT_TRUE(co_await catch_up(a, c));
    EXPECT_EQ(state_of(c), state_of(a));
    EXPECT_EQ(c.stats().points, 20u) << "none of C's term-2 points";
    EXPECT_EQ(c.position().last_lsn, 20u);
    EXPECT_EQ(c.term_at(12), 1u);
    co_await a.close();
    co_await c.close();
  });
}

TEST(ReplicaDivergence, ATermBegunAndNeverWrittenInGivesWayToTheLeadersOlderRecords) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto a_open = co_await shard::open(options(dir.path() / "a"));
    auto c_open = co_await shard::open(options(dir.path() / "c"));
    CO_ASSERT_TRUE(a_open && c_open);
    shard& a = **a_open;
    shard& c = **c_open;
    CO_ASSERT_TRUE(co_await a.become_leader(1));
    CO_ASSERT_TRUE(co_await c.become_follower(1));
    CO_ASSERT_TRUE(co_await write_each(a, 0, 10, 1));
    CO_ASSERT_TRUE(co_await catch_up(a, c));
    CO_ASSERT_TRUE(co_await write_each(a, 10, 10, 1));
    // C leads term 2 from 11 and writes nothing; A leads term 3 and ships its term-1 11..20.
    CO_ASSERT_TRUE(co_await c.become_leader(2));
    CO_ASSERT_TRUE(co_await a.become_leader(3));
    CO_ASSERT_TRUE(co_await c.become_follower(3));
    CO_ASSERT_TRUE(co_await catch_up(a, c));
    EXPECT_EQ(state_of(c), state_of(a));
    EXPECT_EQ(c.term_at(15), 1u) << "the records' own term, not the empty term 2";
    EXPECT_EQ(c.terms().entries(), (std::vector<term_start>{{1, 1}}));
    // The next append's check passes (it failed while the history said term 2).
    CO_ASSERT_TRUE(co_await write_each(a, 20, 1, 3));
    CO_ASSERT_TRUE(co_await catch_up(a, c));
    EXPECT_EQ(c.term_at(21), 3u);
    EXPECT_EQ(c.terms().entries(), a.terms().entries());
    EXPECT_TRUE(co_await c.wait_applied(1, 15, 50ms));
    // And after a restart.
    co_await c.close();
    auto c2 = co_await shard::open(options(dir.path() / "c"));
    CO_ASSERT_TRUE(c2);
    EXPECT_EQ((*c2)->term_at(15), 1u);
    EXPECT_EQ((*c2)->term_at(21), 3u);
    co_await (*c2)->close();
    co_await a.close();
  });
}

}  // namespace
}  // namespace shoal::shard
