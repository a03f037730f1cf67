#pragma once
// A small pool of ordinary threads for system calls that block (fsync, open, unlink, rename, stat,
// large reads and writes): reactor threads must never make them (PRACTICES P2). A reactor awaits
// run(); the job executes on a pool thread and the result is posted back to the awaiting core.
//
// Bounded twice: each core may have at most runtime_config::blocking_per_core jobs in the pool
// (a core-local semaphore; further callers wait), so the pool's queue never exceeds
// cores x blocking_per_core. Jobs are counted by reason for /metrics.

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/system_error.hpp>

#include "engine/runtime/runtime.h"

namespace shoal::rt {

enum class blocking_reason : uint8_t {
  fsync,
  open,
  close,
  read,
  write,
  unlink,
  rename,
  stat,
  mkdir,
  truncate,
  resolve,  // getaddrinfo
  other
};
inline constexpr size_t kBlockingReasons = 12;
std::string_view blocking_reason_name(blocking_reason r);

class blocking_pool {
 public:
  explicit blocking_pool(unsigned threads);
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// On a reactor: runs fn() on a pool thread and returns its result (or rethrows its exception)
  /// on the calling core. fn must not touch core-local state.
  template <typename F>
  auto run(blocking_reason reason, F fn) -> awaitable<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    using value_t = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
    auto units = co_await runtime::current().local().blocking_units().acquire(1);
    if (!units) throw boost::system::system_error(units.error());
    auto home = co_await asio::this_coro::executor;
    auto value = co_await asio::async_initiate<decltype(use_awaitable),
                                               void(std::exception_ptr, std::optional<value_t>)>(
        [this, reason, &fn, &home](auto handler) {
          enqueue(std::make_unique<job_impl<F, value_t>>(reason, std::move(fn), std::move(handler),
                                                         home));
        },
        use_awaitable);
    if constexpr (!std::is_void_v<R>) co_return std::move(*value);
  }

  /// Stops the threads after the jobs they are running; queued jobs are destroyed unrun.
  void stop();

  uint64_t completed(blocking_reason r) const {
    return completed_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
  size_t queued() const;

 private:
  struct job {
    virtual ~job() = default;
    virtual void run_and_post() = 0;  // on a pool thread
    blocking_reason reason;
  };

  template <typename F, typename V>
  struct job_impl final : job {
    using handler_t = asio::any_completion_handler<void(std::exception_ptr, std::optional<V>)>;
    job_impl(blocking_reason r, F f, handler_t h, asio::any_io_executor ex)
        : fn(std::move(f)), handler(std::move(h)), home(std::move(ex)) {
      reason = r;
    }
    void run_and_post() override {
      std::exception_ptr error;
      std::optional<V> value;
      try {
        if constexpr (std::is_same_v<V, std::monostate> &&
                      std::is_void_v<std::invoke_result_t<F&>>) {
          fn();
          value.emplace();
        } else {
          value.emplace(fn());
        }
      } catch (...) {
        error = std::current_exception();
      }
      // The awaiting coroutine resumes on its own core; posting from another thread is safe.
      asio::post(home, [h = std::move(handler), error, v = std::move(value)]() mutable {
        std::move(h)(error, std::move(v));
      });
    }
    F fn;
    handler_t handler;
    asio::any_io_executor home;
  };

  void enqueue(std::unique_ptr<job> j);
  void worker();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::array<std::atomic<uint64_t>, kBlockingReasons> completed_{};
};

}  // namespace shoal::rt
