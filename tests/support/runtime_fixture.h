#pragma once
// Runs a test body as a coroutine on core 0 of a real multi-core runtime (PRACTICES A19).
//
//   run_on_runtime(2, []() -> awaitable<void> { ... co_await submit_to(core_id(1), ...); });
//
// gtest's ASSERT_* macros `return`, which a coroutine cannot; use CO_ASSERT_* inside bodies.

#include <functional>

#include <gtest/gtest.h>

#include "engine/runtime/runtime.h"

#define CO_ASSERT_TRUE(cond)                  \
  if (!(cond)) {                              \
    ADD_FAILURE() << "expected true: " #cond; \
    co_return;                                \
  }
#define CO_ASSERT_EQ(a, b) \
  if (!((a) == (b))) {     \
    EXPECT_EQ(a, b);       \
    co_return;             \
  }

namespace shoal::test {

inline rt::runtime_config test_runtime_config(unsigned cores) {
  rt::runtime_config cfg;
  cfg.cores = cores;
  cfg.pin_threads = false;  // tests may ask for more cores than the machine has
  return cfg;
}

inline void run_on_runtime(rt::runtime_config cfg, std::function<awaitable<void>()> body) {
  rt::runtime runtime(cfg);
  runtime.run(std::move(body));
}

inline void run_on_runtime(unsigned cores, std::function<awaitable<void>()> body) {
  run_on_runtime(test_runtime_config(cores), std::move(body));
}

/// Suspends the calling coroutine for `d` on its own core.
inline awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_nothrow_awaitable);
}

}  // namespace shoal::test
