// Guards the toolchain against a miscompilation that would corrupt the runtime silently: GCC 12
// destroys a lambda temporary twice when it is an argument of a call inside a co_await
// expression, and submit_to(core, [captures] { ... }) is exactly that shape.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "engine/runtime/asio.h"

namespace shoal {
namespace {

int live_trackers = 0;
struct tracker {
  tracker() { ++live_trackers; }
  tracker(const tracker&) { ++live_trackers; }
  tracker(tracker&&) noexcept { ++live_trackers; }
  ~tracker() { --live_trackers; }
};

template <typename F>
awaitable<int> take(F f) {
  co_return f();
}

TEST(Compiler, LambdaTemporaryInCoAwaitIsDestroyedOnce) {
  asio::io_context ioc;
  int seen = -100;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        tracker t;
        for (int i = 0; i < 3; ++i) co_await take([t] { return 0; });
        seen = live_trackers;  // only `t` itself
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(live_trackers, 0);
}

}  // namespace
}  // namespace shoal
