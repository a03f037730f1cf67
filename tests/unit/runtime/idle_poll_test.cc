// The idle-poll policy (idle_poll.h) on its own, step by step, and a real runtime that must not
// spin on a core that no message is likely to reach.
#include "engine/runtime/idle_poll.h"

#include <gtest/gtest.h>

#include "engine/runtime/smp.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::rt {
namespace {

using namespace std::chrono_literals;

TEST(IdlePollPolicy, AReplyDueGetsTheWholePollAndRequestsNoneAtFirst) {
  idle_poll_policy p(80us);
  EXPECT_EQ(p.budget(true), 80us);
  EXPECT_EQ(p.budget(false), 0us);  // nothing suggests a request is coming yet
}

TEST(IdlePollPolicy, QuickWakeUpsGrowThePollForRequestsUpToTheCap) {
  idle_poll_policy p(80us);
  p.woken_by_message(30us);  // a poll of 80 us would have caught it
  EXPECT_EQ(p.budget(false), 10us);
  p.woken_by_message(5us);
  EXPECT_EQ(p.budget(false), 20us);
  p.woken_by_message(5us);
  p.woken_by_message(5us);
  EXPECT_EQ(p.budget(false), 80us);
  p.woken_by_message(5us);
  EXPECT_EQ(p.budget(false), 80us);  // capped
  EXPECT_EQ(p.budget(true), 80us);
}

TEST(IdlePollPolicy, SlowWakeUpsLeaveItAndMissesShrinkItToNothing) {
  idle_poll_policy p(80us);
  p.woken_by_message(80us);  // no poll up to the cap would have caught this one
  p.woken_by_message(3ms);
  EXPECT_EQ(p.budget(false), 0us);
  for (int i = 0; i < 4; ++i) p.woken_by_message(1us);
  EXPECT_EQ(p.budget(false), 80us);
  p.missed();
  EXPECT_EQ(p.budget(false), 40us);
  p.missed();
  p.missed();
  EXPECT_EQ(p.budget(false), 10us);
  p.missed();  // 5 us is below cap / 8: stop polling for requests
  EXPECT_EQ(p.budget(false), 0us);
  p.missed();
  EXPECT_EQ(p.budget(false), 0us);
  EXPECT_EQ(p.budget(true), 80us);  // replies are still worth the wait
}

// Requests far apart: the target core should sleep rather than spin after each one. Before the
// policy it polled the whole `idle_poll` (here 2 ms) after every request, 40 ms in all; now at most
// a short poll or two. The sender awaits each reply, so it polls while one is due.
TEST(IdlePoll, ACoreThatRequestsRarelyReachDoesNotSpin) {
  auto cfg = test::test_runtime_config(2);
  cfg.idle_poll = 2ms;
  runtime rt(cfg);
  rt.run([&]() -> awaitable<void> {
    for (int i = 0; i < 20; ++i) {
      co_await submit_to(core_id(1), [] { return 0; });
      co_await test::sleep_for(5ms);
    }
  });
  EXPECT_LT(rt.core(core_id(1)).idle_poll_ns(), uint64_t(std::chrono::nanoseconds(10ms).count()));
  EXPECT_GT(rt.core(core_id(0)).idle_poll_ns(), 0u);  // awaiting its replies
}

}  // namespace
}  // namespace shoal::rt
