#pragma once
// A manual-reset event on one core: set() wakes every waiter; waits after set() return at once
// until reset(). Used for "drained", "stopped" and similar one-shot conditions.

#include "engine/runtime/waiter.h"

namespace shoal::rt {

class event {
 public:
  event() = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;
  ~event() { wake_all(); }

  void set() {
    set_ = true;
    wake_all();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }

  /// True once set; false if the timeout passed first.
  awaitable<bool> wait(clock::duration timeout = no_timeout) {
    if (set_) co_return true;
    waiter w(co_await asio::this_coro::executor, deadline_after(timeout));
    waiters_.push_back(w);
    co_return co_await w.wait() == waiter::state::woken;
  }

 private:
  void wake_all() {
    while (!waiters_.empty()) waiters_.front().wake(waiter::state::woken);
  }
  bool set_ = false;
  waiter_list waiters_;
};

}  // namespace shoal::rt
