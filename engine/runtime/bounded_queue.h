#pragma once
// A bounded async FIFO on one core: push waits while full, pop waits while empty. close() makes
// pushes fail with errc::shutting_down; pops drain what is left, then fail the same way.
// Producers and consumers are coroutines on the queue's own core.

#include <deque>

#include "engine/common/result.h"
#include "engine/runtime/errc.h"
#include "engine/runtime/waiter.h"

namespace shoal::rt {

template <typename T>
class bounded_queue {
 public:
  explicit bounded_queue(size_t capacity) : capacity_(capacity) {}
  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;
  ~bounded_queue() { close(); }

  awaitable<result<void>> push(T value, clock::duration timeout = no_timeout) {
    while (!closed_ && items_.size() >= capacity_) {
      waiter w(co_await asio::this_coro::executor, deadline_after(timeout));
      not_full_.push_back(w);
      if (co_await w.wait() == waiter::state::waiting) co_return errc::timeout;
    }
    if (closed_) co_return errc::shutting_down;
    items_.push_back(std::move(value));
    wake_one(not_empty_);
    co_return result<void>{};
  }

  bool try_push(T& value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    wake_one(not_empty_);
    return true;
  }

  awaitable<result<T>> pop(clock::duration timeout = no_timeout) {
    while (items_.empty()) {
      if (closed_) co_return errc::shutting_down;
      waiter w(co_await asio::this_coro::executor, deadline_after(timeout));
      not_empty_.push_back(w);
      if (co_await w.wait() == waiter::state::waiting) co_return errc::timeout;
    }
    T v = std::move(items_.front());
    items_.pop_front();
    wake_one(not_full_);
    co_return v;
  }

  void close() {
    closed_ = true;
    while (!not_full_.empty()) not_full_.front().wake(waiter::state::failed);
    while (!not_empty_.empty()) not_empty_.front().wake(waiter::state::failed);
  }

  size_t size() const { return items_.size(); }
  size_t capacity() const { return capacity_; }
  bool closed() const { return closed_; }

 private:
  static void wake_one(waiter_list& l) {
    if (!l.empty()) l.front().wake(waiter::state::woken);
  }

  size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  waiter_list not_full_;
  waiter_list not_empty_;
};

}  // namespace shoal::rt
