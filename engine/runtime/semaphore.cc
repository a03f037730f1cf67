#include "engine/runtime/semaphore.h"

namespace shoal::rt {

awaitable<result<semaphore::units>> semaphore::acquire(size_t n, clock::duration timeout) {
  if (broken_) co_return errc::broken;
  if (waiters_.empty() && available_ >= n) {
    available_ -= n;
    co_return units(this, n);
  }
  if (waiting_ >= max_waiters_) co_return errc::too_many_waiters;
  if (timeout <= clock::duration::zero()) co_return errc::timeout;
  waiter w(co_await asio::this_coro::executor, deadline_after(timeout), n);
  waiters_.push_back(w);
  ++waiting_;
  auto outcome = co_await w.wait();
  --waiting_;
  switch (outcome) {
    case waiter::state::woken:
      co_return units(this, n);
    case waiter::state::failed:
      co_return errc::broken;
    case waiter::state::waiting:
      break;
  }
  // Our timeout may have freed the head of the queue for smaller requests behind us.
  wake_ready();
  co_return errc::timeout;
}

result<semaphore::units> semaphore::try_acquire(size_t n) {
  if (broken_) return errc::broken;
  if (!waiters_.empty() || available_ < n) return errc::timeout;
  available_ -= n;
  return units(this, n);
}

void semaphore::signal(size_t n) {
  if (broken_) return;
  available_ += n;
  wake_ready();
}

void semaphore::wake_ready() {
  while (!waiters_.empty() && waiters_.front().units() <= available_) {
    available_ -= waiters_.front().units();
    waiters_.front().wake(waiter::state::woken);
  }
}

void semaphore::break_all() {
  broken_ = true;
  while (!waiters_.empty()) waiters_.front().wake(waiter::state::failed);
}

}  // namespace shoal::rt
