// Replicas whose logs part in a term one of them never had (issue #17 scenario 3, Kafka's
// KIP-279), with real shards: term 1 wrote LSNs 1..20 on A while C held 1..10; C led term 2 and
// wrote 11..15; A leads term 3. The stream's common point (term_history.h, common_point) cuts
// C's term-2 records and C converges; read-your-writes tokens answer what each replica knows:
// a token of a replaced record is 409 (write_lost) where the replica's log is known final, and
// waits where it may still be cut, until the leader's append aligns it. A term begun and never
// written in gives way to the leader's older records.
#include <optional>

#include <gtest/gtest.h>

#include "engine/runtime/asio.h"
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

    // C's term-2 token on the leader: its record 12 has term 1 there for good.
    auto on_leader = co_await a.wait_applied(2, 12, 2s);
    EXPECT_EQ(on_leader ? error_code{} : on_leader.error(), error_code(errc::write_lost))
        << "a leader's log is final: C's term-2 record 12 was replaced";
    // A term-1 token of A's record 12 on C, before C's leader has aligned it: it may yet hold it.
    CO_ASSERT_TRUE(co_await c.become_follower(3));
    auto early = co_await c.wait_applied(1, 12, 50ms);
    EXPECT_EQ(early ? error_code{} : early.error(), error_code(errc::read_after_timeout))
        << "C's own record 12 is about to be cut: no verdict yet";

    CO_ASSERT_TRUE(co_await catch_up(a, c));
    EXPECT_EQ(state_of(c), state_of(a));
    EXPECT_EQ(c.stats().points, 20u) << "none of C's term-2 points";
    EXPECT_EQ(c.position().last_lsn, 20u);
    EXPECT_EQ(c.term_at(12), 1u);
    EXPECT_TRUE(co_await c.wait_applied(1, 12, 50ms));
    auto replaced = co_await c.wait_applied(2, 12, 2s);
    EXPECT_EQ(replaced ? error_code{} : replaced.error(), error_code(errc::write_lost))
        << "aligned with the leader of term 3: its record 12 is final";
    auto unheard = co_await c.wait_applied(4, 12, 50ms);
    EXPECT_EQ(unheard ? error_code{} : unheard.error(), error_code(errc::read_after_timeout))
        << "a token of a term this replica never heard of waits";
    auto future = co_await a.wait_applied(2, 25, 2s);
    EXPECT_EQ(future ? error_code{} : future.error(), error_code(errc::write_lost))
        << "LSN 25 will be written in term 3";
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

TEST(ReplicaDivergence, AnAligningHeartbeatGivesAWaitingTokenItsVerdict) {
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
    CO_ASSERT_TRUE(co_await a.become_leader(3));
    CO_ASSERT_TRUE(co_await c.become_follower(3));
    // A token of a term-2 record at 5 that never reached this lineage: C, not yet aligned in
    // term 3, cannot tell yet.
    auto verdict = std::make_shared<std::optional<error_code>>();
    auto started = std::chrono::steady_clock::now();
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&c, verdict]() -> awaitable<void> {
          auto r = co_await c.wait_applied(2, 5, 5s);
          *verdict = r ? error_code{} : r.error();
        },
        asio::detached);
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(50ms);
    co_await t.async_wait(use_nothrow_awaitable);
    EXPECT_FALSE(verdict->has_value()) << "no verdict before the leader aligned C";
    // The leader's heartbeat: C's log matches it, so its record at 5 is final.
    CO_ASSERT_TRUE(co_await c.append_replicated(3, 10, 1, {}, true));
    for (int i = 0; i < 100 && !verdict->has_value(); ++i) {
      t.expires_after(10ms);
      co_await t.async_wait(use_nothrow_awaitable);
    }
    CO_ASSERT_TRUE(verdict->has_value());
    EXPECT_EQ(**verdict, error_code(errc::write_lost));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "woken, not timed out";
    co_await a.close();
    co_await c.close();
  });
}

}  // namespace
}  // namespace shoal::shard
