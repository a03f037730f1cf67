// Cross-core calls on a real runtime: where code runs, ordering per pair, backpressure,
// exceptions, fan-out, and shutdown with work in flight.
#include "engine/runtime/smp.h"

#include <atomic>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "engine/runtime/gate.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::rt {
namespace {

using test::run_on_runtime;
using test::sleep_for;

TEST(Smp, SubmitRunsOnTargetAndResumesOnCaller) {
  run_on_runtime(3, []() -> awaitable<void> {
    EXPECT_EQ(this_core(), core_id(0));
    for (unsigned target : {1u, 2u, 0u}) {
      auto ran_on = co_await submit_to(core_id(target), [] { return this_core(); });
      EXPECT_EQ(ran_on, core_id(target));
      EXPECT_EQ(this_core(), core_id(0));
    }
    // Core 1 calling core 2, from a call that itself runs on core 1.
    auto nested = co_await submit_to(core_id(1), []() -> awaitable<core_id> {
      auto inner = co_await submit_to(core_id(2), [] { return this_core(); });
      EXPECT_EQ(this_core(), core_id(1));
      co_return inner;
    });
    EXPECT_EQ(nested, core_id(2));
  });
}

TEST(Smp, MessagesFromOnePairRunInSubmissionOrder) {
  std::vector<int> order;  // touched only on core 1
  run_on_runtime(2, [&]() -> awaitable<void> {
    constexpr int kMessages = 2000;  // far beyond the channel depth, so many wait for units
    co_await parallel_for(kMessages, [&](size_t i) -> awaitable<void> {
      co_await submit_to(core_id(1), [&order, i] { order.push_back(static_cast<int>(i)); });
    });
    EXPECT_EQ(order.size(), size_t{kMessages});
  });
  for (size_t i = 1; i < order.size(); ++i) ASSERT_LT(order[i - 1], order[i]) << "at " << i;
}

TEST(Smp, FullChannelMakesSendersWaitAndQueueTimeoutIsAValue) {
  auto cfg = test::test_runtime_config(2);
  cfg.channel_depth = 4;
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  run_on_runtime(cfg, [&]() -> awaitable<void> {
    auto blocker = [&]() -> awaitable<int> {
      started.fetch_add(1);
      while (!release.load()) co_await sleep_for(std::chrono::milliseconds(1));
      co_return 1;
    };
    int done = 0;
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 10; ++i) {
      asio::co_spawn(ex, submit_to(core_id(1), blocker),
                     [&](std::exception_ptr, int v) { done += v; });
    }
    co_await sleep_for(std::chrono::milliseconds(50));
    auto& ch = runtime::current().channel_between(0, 1);
    EXPECT_EQ(started.load(), 4) << "only channel_depth messages may be in flight";
    EXPECT_EQ(ch.units.available(), 0u);
    EXPECT_EQ(ch.units.waiting(), 6u);

    auto timed_out = co_await try_submit_to(core_id(1), [] { return 7; },
                                            {.queue_timeout = std::chrono::milliseconds(20)});
    CO_ASSERT_TRUE(!timed_out);
    EXPECT_EQ(timed_out.error(), errc::timeout);

    release = true;
    while (done < 10) co_await sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(started.load(), 10);
    EXPECT_EQ(ch.units.available(), 4u);
  });
}

TEST(Smp, ServiceGroupCapsConcurrentRemoteRequestsOnTarget) {
  auto cfg = test::test_runtime_config(2);
  cfg.group_limit = 3;
  int running = 0, peak = 0;  // core 1 only
  run_on_runtime(cfg, [&]() -> awaitable<void> {
    co_await parallel_for(20, [&](size_t) -> awaitable<void> {
      co_await submit_to(core_id(1),
                         [&]() -> awaitable<void> {
                           peak = std::max(peak, ++running);
                           co_await sleep_for(std::chrono::milliseconds(2));
                           --running;
                         },
                         {.group = service_group::search});
    });
  });
  EXPECT_EQ(peak, 3);
}

TEST(Smp, ExceptionsOnTargetAreRethrownAtCaller) {
  run_on_runtime(2, []() -> awaitable<void> {
    bool caught = false;
    try {
      co_await submit_to(core_id(1), []() -> int { throw std::runtime_error("boom on core 1"); });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "boom on core 1";
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(this_core(), core_id(0));
  });
}

TEST(Smp, InvokeOnAllAndMapReduceVisitEveryCoreOnce) {
  std::vector<std::atomic<int>> visits(4);
  run_on_runtime(4, [&]() -> awaitable<void> {
    co_await invoke_on_all([&] { visits[this_core().value()].fetch_add(1); });
    auto sum = co_await map_reduce([] { return this_core().value() * 10; }, 0u,
                                   [](unsigned acc, unsigned v) { return acc + v; });
    EXPECT_EQ(sum, 0u + 10 + 20 + 30);
  });
  for (auto& v : visits) EXPECT_EQ(v.load(), 1);
}

class SmpStress : public ::testing::TestWithParam<int> {};

// idle_poll 0 sends every message through the sleep/doorbell path; 50 us mostly through polling.
INSTANTIATE_TEST_SUITE_P(IdlePoll, SmpStress, ::testing::Values(0, 50));

TEST_P(SmpStress, ManyConcurrentRoundTripsBetweenAllPairs) {
  std::atomic<uint64_t> total{0};
  auto cfg = test::test_runtime_config(3);
  cfg.idle_poll = std::chrono::microseconds(GetParam());
  cfg.channel_depth = 8;  // small, so senders also take the waiting path
  run_on_runtime(cfg, [&]() -> awaitable<void> {
    co_await invoke_on_all([&]() -> awaitable<void> {
      // Every core hammers every other core at once: rings in both directions stay busy.
      co_await parallel_for(3 * 2000, [&](size_t i) -> awaitable<void> {
        auto target = core_id(static_cast<unsigned>(i % 3));
        auto v = co_await submit_to(target, [i] { return uint64_t{i}; });
        total.fetch_add(v);
      });
    });
  });
  uint64_t per_core = 0;
  for (uint64_t i = 0; i < 6000; ++i) per_core += i;
  EXPECT_EQ(total.load(), 3 * per_core);
}

// The idle-poll counter is what the benchmarks subtract from the server's CPU time: it must
// count only polling, and none when polling is off. Core 0 awaits each reply, so it polls.
TEST(Smp, IdlePollingIsAccountedOnlyWhenEnabled) {
  for (int us : {0, 50}) {
    auto cfg = test::test_runtime_config(2);
    cfg.idle_poll = std::chrono::microseconds(us);
    runtime rt(cfg);
    auto start = std::chrono::steady_clock::now();
    rt.run([&]() -> awaitable<void> {
      for (int i = 0; i < 20; ++i) {  // each pause leaves core 1 idle after a message
        co_await submit_to(core_id(1), [] { return 0; });
        co_await test::sleep_for(std::chrono::milliseconds(1));
      }
    });
    auto elapsed = std::chrono::steady_clock::now() - start;
    uint64_t polled = rt.core(core_id(0)).idle_poll_ns();
    if (us == 0) {
      EXPECT_EQ(polled, 0u);
    } else {
      EXPECT_GT(polled, 0u);
      EXPECT_LT(polled, uint64_t(std::chrono::nanoseconds(elapsed).count()));
    }
  }
}

TEST(Smp, ShutdownWaitsForWorkInFlight) {
  std::atomic<int> finished{0};
  run_on_runtime(2, [&]() -> awaitable<void> {
    // Work that main starts on core 1 and does not await directly; a gate on core 1 tracks it.
    auto g = std::make_shared<gate>("work");
    co_await submit_to(core_id(1), [&finished, g] {
      auto ex = runtime::current().local().executor();
      for (int i = 0; i < 5; ++i) {
        asio::co_spawn(
            ex,
            [&finished, h = g->enter().value()]() mutable -> awaitable<void> {
              co_await sleep_for(std::chrono::milliseconds(30));
              finished.fetch_add(1);
            },
            asio::detached);
      }
    });
    auto closed = co_await submit_to(core_id(1), [g]() -> awaitable<bool> {
      co_return static_cast<bool>(co_await g->close(std::chrono::seconds(5)));
    });
    EXPECT_TRUE(closed);
    EXPECT_EQ(finished.load(), 5);
    auto late = co_await submit_to(core_id(1), [g] { return g->enter().has_value(); });
    EXPECT_FALSE(late) << "a closed gate admits no new work";
    co_await submit_to(core_id(1), [g = std::move(g)]() mutable { g.reset(); });
  });
  EXPECT_EQ(finished.load(), 5);
}

}  // namespace
}  // namespace shoal::rt

namespace shoal::rt {
namespace {

TEST(Smp, AFailedResultComesBackAsAValueNotAsAFailedCall) {
  test::run_on_runtime(2, []() -> awaitable<void> {
    for (unsigned target : {0u, 1u}) {
      auto r =
          co_await submit_to(core_id(target), []() -> result<int> { return errc::gate_closed; });
      CO_ASSERT_TRUE(!r);
      EXPECT_EQ(r.error(), errc::gate_closed);
    }
  });
}

}  // namespace
}  // namespace shoal::rt
