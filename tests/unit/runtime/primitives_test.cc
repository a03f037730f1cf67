// Core-local async primitives: semaphore, gate, event, bounded_queue.
#include <vector>

#include <gtest/gtest.h>

#include "engine/runtime/bounded_queue.h"
#include "engine/runtime/gate.h"
#include "engine/runtime/semaphore.h"
#include "engine/runtime/smp.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::rt {
namespace {

using namespace std::chrono_literals;
using test::run_on_runtime;
using test::sleep_for;

TEST(Semaphore, WaitersAreServedInOrderAndUnitsReturnOnDestruction) {
  run_on_runtime(1, []() -> awaitable<void> {
    semaphore sem(2);
    std::vector<int> order;
    {
      auto a = co_await sem.acquire(2);
      CO_ASSERT_TRUE(a.has_value());
      EXPECT_EQ(sem.available(), 0u);
      auto ex = co_await asio::this_coro::executor;
      for (int i = 0; i < 3; ++i) {
        asio::co_spawn(
            ex,
            [&, i]() -> awaitable<void> {
              auto u = co_await sem.acquire(1);
              order.push_back(i);
              co_await sleep_for(1ms);
            },
            asio::detached);
      }
      co_await sleep_for(5ms);
      EXPECT_EQ(sem.waiting(), 3u);
      EXPECT_TRUE(order.empty());
    }  // the two units go back here
    co_await sleep_for(20ms);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(sem.available(), 2u);
  });
}

TEST(Semaphore, TimeoutIsAnErrorValueAndLetsSmallerWaitersThrough) {
  run_on_runtime(1, []() -> awaitable<void> {
    semaphore sem(1);
    auto held = co_await sem.acquire(1);
    auto t0 = std::chrono::steady_clock::now();
    auto r = co_await sem.acquire(1, 20ms);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
    CO_ASSERT_TRUE(!r);
    EXPECT_EQ(r.error(), errc::timeout);
    EXPECT_EQ(sem.waiting(), 0u);
    held->release();
    EXPECT_EQ(sem.available(), 1u);
  });
}

TEST(Semaphore, BoundedWaiterListShedsLoad) {
  run_on_runtime(1, []() -> awaitable<void> {
    semaphore sem(0, /*max_waiters=*/2);
    auto ex = co_await asio::this_coro::executor;
    std::vector<errc> outcomes;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            auto r = co_await sem.acquire(1);
            outcomes.push_back(r ? errc{} : static_cast<errc>(r.error().value()));
          },
          asio::detached);
    }
    co_await sleep_for(2ms);
    EXPECT_EQ(outcomes, std::vector<errc>{errc::too_many_waiters});
    sem.break_all();
    co_await sleep_for(2ms);
    EXPECT_EQ(outcomes, (std::vector<errc>{errc::too_many_waiters, errc::broken, errc::broken}));
    auto after = co_await sem.acquire(1);
    EXPECT_EQ(after.error(), errc::broken);
  });
}

TEST(Gate, CloseWaitsForHoldersAndRejectsNewOnes) {
  run_on_runtime(1, []() -> awaitable<void> {
    gate g("test");
    auto h1 = g.enter();
    CO_ASSERT_TRUE(h1.has_value());
    auto ex = co_await asio::this_coro::executor;
    bool closed = false;
    asio::co_spawn(
        ex,
        [&]() -> awaitable<void> {
          auto r = co_await g.close();
          closed = r.has_value();
        },
        asio::detached);
    co_await sleep_for(5ms);
    EXPECT_FALSE(closed);
    EXPECT_TRUE(g.is_closed());
    EXPECT_EQ(g.enter().error(), errc::gate_closed);
    h1->leave();
    co_await sleep_for(1ms);
    EXPECT_TRUE(closed);
  });
}

TEST(Gate, CloseTimesOutWhileWorkRuns) {
  run_on_runtime(1, []() -> awaitable<void> {
    gate g;
    auto h = g.enter();
    auto r = co_await g.close(10ms);
    CO_ASSERT_TRUE(!r);
    EXPECT_EQ(r.error(), errc::timeout);
  });
}

TEST(Event, SetWakesEveryWaiterAndTimeoutReturnsFalse) {
  run_on_runtime(1, []() -> awaitable<void> {
    event e;
    EXPECT_FALSE(co_await e.wait(5ms));
    int woken = 0;
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            if (co_await e.wait()) ++woken;
          },
          asio::detached);
    }
    co_await sleep_for(1ms);
    e.set();
    co_await sleep_for(1ms);
    EXPECT_EQ(woken, 3);
    EXPECT_TRUE(co_await e.wait(0ms));
  });
}

TEST(BoundedQueue, PushWaitsWhenFullAndCloseDrainsThenFails) {
  run_on_runtime(1, []() -> awaitable<void> {
    bounded_queue<int> q(2);
    auto ex = co_await asio::this_coro::executor;
    int pushed = 0;
    asio::co_spawn(
        ex,
        [&]() -> awaitable<void> {
          for (int i = 0; i < 4; ++i) {
            if (co_await q.push(i)) ++pushed;
          }
        },
        asio::detached);
    co_await sleep_for(2ms);
    EXPECT_EQ(pushed, 2);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(*co_await q.pop(), 0);
    co_await sleep_for(1ms);
    EXPECT_EQ(pushed, 3);
    auto timed = co_await q.push(99, 5ms);
    EXPECT_EQ(timed.error(), errc::timeout);
    q.close();
    co_await sleep_for(1ms);
    EXPECT_EQ(pushed, 3) << "a push waiting when the queue closed fails";
    EXPECT_EQ(*co_await q.pop(), 1);
    EXPECT_EQ(*co_await q.pop(), 2);
    EXPECT_EQ((co_await q.pop()).error(), errc::shutting_down);
  });
}

}  // namespace
}  // namespace shoal::rt
