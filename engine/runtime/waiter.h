#pragma once
// The building block of the core-local async primitives (event, semaphore, gate, bounded_queue):
// a waiter is a steady_timer in the waiting coroutine's frame, linked into its primitive's list.
// Waking it sets its state and cancels the timer; a timer that fires on its own means the deadline
// passed. Destroying a waiter (its coroutine was destroyed) unlinks it, so a primitive never holds
// a dangling waiter. Everything here lives on one core and is not thread-safe.

#include <chrono>

#include <boost/intrusive/list.hpp>

#include "engine/runtime/asio.h"

namespace shoal::rt {

using clock = std::chrono::steady_clock;
inline constexpr clock::duration no_timeout = clock::duration::max();

inline clock::time_point deadline_after(clock::duration timeout) {
  if (timeout == no_timeout) return clock::time_point::max();
  auto now = clock::now();
  if (timeout > clock::time_point::max() - now) return clock::time_point::max();
  return now + timeout;
}

using auto_unlink_hook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class waiter : public auto_unlink_hook {
 public:
  enum class state { waiting, woken, failed };

  waiter(const asio::any_io_executor& ex, clock::time_point deadline, size_t units = 0)
      : timer_(ex, deadline), units_(units) {}

  size_t units() const { return units_; }
  state current() const { return state_; }

  /// Wakes the waiter with `s` (woken or failed). Runs on the primitive's core.
  void wake(state s) {
    state_ = s;
    unlink();
    timer_.cancel();
  }

  /// Suspends until woken or the deadline passes. Returns woken, failed, or waiting (= timed out;
  /// the waiter is then unlinked).
  awaitable<state> wait() {
    co_await timer_.async_wait(use_nothrow_awaitable);
    if (state_ == state::waiting) unlink();
    co_return state_;
  }

 private:
  asio::steady_timer timer_;
  size_t units_;
  state state_ = state::waiting;
};

using waiter_list = boost::intrusive::list<waiter, boost::intrusive::constant_time_size<false>>;

}  // namespace shoal::rt
