// sharded<T>, foreign_ptr, the blocking pool and the stall detector on a real runtime.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "engine/common/thread_context.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/foreign_ptr.h"
#include "engine/runtime/sharded.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::rt {
namespace {

using namespace std::chrono_literals;
using test::run_on_runtime;

struct counter_service {
  explicit counter_service(int base) : base(base), made_on(this_core()) {}
  int base;
  core_id made_on;
  int calls = 0;
  bool stopped = false;
  int add(int v) {
    ++calls;
    EXPECT_EQ(this_core(), made_on);
    return base + v;
  }
  awaitable<void> stop() {
    EXPECT_EQ(this_core(), made_on);
    stopped = true;
    co_return;
  }
};

TEST(Sharded, OneInstancePerCoreUsedOnlyOnItsCore) {
  run_on_runtime(3, []() -> awaitable<void> {
    sharded<counter_service> svc;
    co_await svc.start(100);
    EXPECT_EQ(svc.local().made_on, core_id(0));
    auto r = co_await svc.invoke_on(core_id(2), &counter_service::add, 5);
    EXPECT_EQ(r, 105);
    auto made_on = co_await svc.invoke_on(core_id(1), [](counter_service& s) { return s.made_on; });
    EXPECT_EQ(made_on, core_id(1));
    co_await svc.invoke_on_all([](counter_service& s) { s.add(1); });
    auto total_calls = co_await svc.map_reduce([](counter_service& s) { return s.calls; }, 0,
                                               [](int a, int b) { return a + b; });
    EXPECT_EQ(total_calls, 1 + 3);
    co_await svc.stop();
    EXPECT_FALSE(svc.started());
  });
}

struct tracked {
  explicit tracked(std::atomic<int>* destroyed_on) : destroyed_on(destroyed_on) {}
  ~tracked() { destroyed_on->store(static_cast<int>(this_core().value())); }
  std::atomic<int>* destroyed_on;
};

TEST(ForeignPtr, ObjectDiesOnTheCoreThatMadeIt) {
  std::atomic<int> destroyed_on{-1};
  run_on_runtime(2, [&]() -> awaitable<void> {
    auto p = co_await submit_to(core_id(1), [&] { return make_foreign<tracked>(&destroyed_on); });
    EXPECT_EQ(p.owner(), core_id(1));
    p.reset();  // on core 0
    while (destroyed_on.load() < 0) co_await test::sleep_for(1ms);
  });
  EXPECT_EQ(destroyed_on.load(), 1);
}

TEST(BlockingPool, RunsOffTheReactorAndResumesOnTheCallingCore) {
  run_on_runtime(2, []() -> awaitable<void> {
    co_await invoke_on_all([]() -> awaitable<void> {
      auto caller = this_core();
      auto where = co_await runtime::current().blocking().run(
          blocking_reason::other, [] { return detail::this_core_index; });
      EXPECT_EQ(where, -1) << "the job must run on a pool thread, not a reactor";
      EXPECT_EQ(this_core(), caller);
    });
    bool caught = false;
    try {
      co_await runtime::current().blocking().run(blocking_reason::fsync,
                                                 []() -> int { throw std::runtime_error("eio"); });
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_GE(runtime::current().blocking().completed(blocking_reason::other), 2u);
  });
}

TEST(BlockingPool, PerCoreLimitBoundsJobsInFlight) {
  auto cfg = test::test_runtime_config(1);
  cfg.blocking_threads = 4;
  cfg.blocking_per_core = 2;
  std::atomic<int> running{0}, peak{0};
  run_on_runtime(cfg, [&]() -> awaitable<void> {
    co_await parallel_for(8, [&](size_t) -> awaitable<void> {
      co_await runtime::current().blocking().run(blocking_reason::other, [&] {
        int now = running.fetch_add(1) + 1;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        std::this_thread::sleep_for(5ms);
        running.fetch_sub(1);
      });
    });
  });
  EXPECT_EQ(peak.load(), 2);
}

TEST(StallDetector, ReportsAHandlerThatDoesNotYield) {
  auto cfg = test::test_runtime_config(2);
  cfg.stall_threshold = 40ms;
  uint64_t stalls = 0;
  run_on_runtime(cfg, [&]() -> awaitable<void> {
    co_await test::sleep_for(50ms);  // heartbeats are running
    co_await submit_to(core_id(1), [] { std::this_thread::sleep_for(250ms); });
    co_await test::sleep_for(20ms);
    stalls = runtime::current().stalls_reported();
  });
  EXPECT_GE(stalls, 1u);
}

}  // namespace
}  // namespace shoal::rt
