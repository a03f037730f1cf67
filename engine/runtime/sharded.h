#pragma once
// sharded<T>: one instance of a service per core (PRACTICES A2). Each instance is constructed,
// used and destroyed on its own core; other cores reach it only through invoke_on (A3).
//
//   sharded<http_server> servers;
//   co_await servers.start(cfg);                         // T(cfg) on every core
//   co_await servers.invoke_on_all(&http_server::listen);
//   co_await servers.invoke_on(core_id(1), &http_server::connections);
//   co_await servers.stop();                             // T::stop() on every core, then ~T there
//
// If T has `awaitable<void> stop()`, sharded::stop() awaits it on each core before destroying.

#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

#include "engine/runtime/smp.h"

namespace shoal::rt {

template <typename T>
concept has_async_stop = requires(T& t) {
  { t.stop() } -> std::same_as<awaitable<void>>;
};

template <typename T>
class sharded {
 public:
  sharded() = default;
  sharded(const sharded&) = delete;
  sharded& operator=(const sharded&) = delete;
  ~sharded() { SHOAL_ASSERT(!started_, "sharded<T> destroyed without stop()"); }

  /// Constructs T(args...) on every core; each core gets its own copy of the arguments.
  template <typename... Args>
  awaitable<void> start(Args... args) {
    auto& rt = runtime::current();
    instances_.resize(rt.core_count());
    started_ = true;
    co_await rt::invoke_on_all(
        [this, args...]() { instances_[this_core().value()] = std::make_unique<T>(args...); });
  }

  awaitable<void> stop() {
    if (!started_) co_return;
    co_await rt::invoke_on_all([this]() -> awaitable<void> {
      auto& slot = instances_[this_core().value()];
      if constexpr (has_async_stop<T>) {
        if (slot) co_await slot->stop();
      }
      slot.reset();
    });
    started_ = false;
  }

  /// This core's instance.
  T& local() { return *instances_[this_core().value()]; }
  bool started() const { return started_; }

  /// fn(T&) on `c`'s instance.
  template <typename Fn>
  auto invoke_on(core_id c, Fn fn, submit_options opts = {}) {
    return submit_to(
        c, [this, fn = std::move(fn)]() mutable { return fn(*instances_[this_core().value()]); },
        opts);
  }

  /// A member function on `c`'s instance, with arguments passed by value (PRACTICES A3).
  template <typename R, typename... MArgs, typename... Args>
  auto invoke_on(core_id c, R (T::*method)(MArgs...), Args... args) {
    return invoke_on(c, [method, args...](T& t) mutable { return (t.*method)(args...); });
  }

  /// fn(T&) on every core at once.
  template <typename Fn>
  awaitable<void> invoke_on_all(Fn fn, submit_options opts = {}) {
    return rt::invoke_on_all(
        [this, fn = std::move(fn)]() mutable { return fn(*instances_[this_core().value()]); },
        opts);
  }

  template <typename R, typename... MArgs, typename... Args>
  awaitable<void> invoke_on_all(R (T::*method)(MArgs...), Args... args) {
    return invoke_on_all([method, args...](T& t) mutable { return (t.*method)(args...); });
  }

  /// mapper(T&) on every core, folded on the caller in core order.
  template <typename Mapper, typename V, typename Reducer>
  auto map_reduce(Mapper mapper, V initial, Reducer reducer) {
    return rt::map_reduce(
        [this, mapper]() mutable { return mapper(*instances_[this_core().value()]); },
        std::move(initial), std::move(reducer));
  }

 private:
  std::vector<std::unique_ptr<T>> instances_;
  bool started_ = false;
};

}  // namespace shoal::rt
