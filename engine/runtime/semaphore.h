#pragma once
// An async counting semaphore on one core, with RAII units and per-wait timeouts.
//
// Contract: lives on one core; acquire/signal only from that core. Waiters are served in FIFO
// order (a large request at the head is not overtaken). The waiter list is bounded: past
// `max_waiters` an acquire fails at once with errc::too_many_waiters, so overload sheds instead of
// queueing without limit. break_all() fails every current and future acquire with errc::broken
// (used when the owner stops). Units returned after break are simply dropped.

#include <string>
#include <utility>

#include "engine/common/result.h"
#include "engine/runtime/errc.h"
#include "engine/runtime/waiter.h"

namespace shoal::rt {

class semaphore {
 public:
  /// Units taken from a semaphore; they go back when this object is destroyed or release()d.
  class units {
   public:
    units() = default;
    units(semaphore* s, size_t n) : sem_(s), n_(n) {}
    units(units&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    units& operator=(units&& o) noexcept {
      if (this != &o) {
        release();
        sem_ = std::exchange(o.sem_, nullptr);
        n_ = std::exchange(o.n_, 0);
      }
      return *this;
    }
    ~units() { release(); }
    size_t count() const { return n_; }
    void release() {
      if (sem_ && n_) sem_->signal(n_);
      sem_ = nullptr;
      n_ = 0;
    }
    /// Keeps the units taken for good (their owner hands them to someone who signals later).
    void consume() {
      sem_ = nullptr;
      n_ = 0;
    }

   private:
    semaphore* sem_ = nullptr;
    size_t n_ = 0;
  };

  explicit semaphore(size_t initial, size_t max_waiters = 100000, std::string name = {})
      : available_(initial), max_waiters_(max_waiters), name_(std::move(name)) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;
  ~semaphore() { break_all(); }

  /// Waits for `n` units. Errors: timeout, too_many_waiters, broken.
  awaitable<result<units>> acquire(size_t n = 1, clock::duration timeout = no_timeout);
  /// Takes `n` units if they are free now and nobody waits ahead.
  result<units> try_acquire(size_t n = 1);
  /// Returns `n` units and wakes the waiters they satisfy, in order.
  void signal(size_t n);
  void break_all();

  size_t available() const { return available_; }
  size_t waiting() const { return waiting_; }
  bool broken() const { return broken_; }
  const std::string& name() const { return name_; }

 private:
  void wake_ready();

  size_t available_;
  size_t max_waiters_;
  size_t waiting_ = 0;
  bool broken_ = false;
  std::string name_;
  waiter_list waiters_;
};

}  // namespace shoal::rt
