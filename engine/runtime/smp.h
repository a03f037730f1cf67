#pragma once
// Cross-core calls (PRACTICES A3, A4). Every function here is called on a reactor thread and
// returns an awaitable that completes on the calling core.
//
//   co_await submit_to(core, fn)          runs fn() on `core`, returns its result here
//   co_await invoke_on_all(fn)            runs fn() on every core at once, waits for all
//   co_await map_reduce(mapper, init, reducer)
//
// fn may return a value or an awaitable (then it runs as a coroutine on the target). fn is moved
// to the target: capture values, never references to the caller's frame or core-local objects
// (PRACTICES A5, P7). fn and its captures are destroyed on the target, after it ran; its result
// travels back and is destroyed by the caller. Exceptions thrown by fn are rethrown at the caller.
//
// Bounded twice: a sender holds one unit of the (source, target) channel while its message is in
// flight and waits for one when the channel is full (backpressure); on the target, each service
// group caps how many remote requests of that class run at once. A call to the caller's own core
// runs directly, without either bound. `queue_timeout` covers only the wait for a channel unit,
// not the execution (as in Seastar, PRACTICES P15).

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/system/system_error.hpp>

#include "engine/runtime/event.h"
#include "engine/runtime/runtime.h"

namespace shoal::rt {

template <typename T>
struct is_awaitable : std::false_type {};
template <typename T, typename E>
struct is_awaitable<asio::awaitable<T, E>> : std::true_type {};

template <typename T>
struct awaitable_value {
  using type = T;
};
template <typename T, typename E>
struct awaitable_value<asio::awaitable<T, E>> {
  using type = T;
};

/// What fn produces once awaited: R for `R fn()` and for `awaitable<R> fn()`.
template <typename F>
using call_result_t = typename awaitable_value<std::invoke_result_t<F&>>::type;

/// void becomes std::monostate where a value must exist.
template <typename T>
using value_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

struct submit_options {
  service_group group = service_group::unlimited;
  clock::duration queue_timeout = no_timeout;
};

namespace detail_smp {

template <typename F>
awaitable<value_or_monostate_t<call_result_t<F>>> call_here(F& fn) {
  using R = call_result_t<F>;
  if constexpr (is_awaitable<std::invoke_result_t<F&>>::value) {
    if constexpr (std::is_void_v<R>) {
      co_await fn();
      co_return std::monostate{};
    } else {
      co_return co_await fn();
    }
  } else if constexpr (std::is_void_v<R>) {
    fn();
    co_return std::monostate{};
  } else {
    co_return fn();
  }
}

// Carries fn to the target and the outcome back. Handler is the caller's completion handler
// (concrete type, no type erasure); it is invoked on the source core, from the drain loop, which
// runs on the thread that owns the awaiting coroutine.
template <typename F, typename Handler>
class smp_call final : public smp_message {
 public:
  using value_t = value_or_monostate_t<call_result_t<F>>;

  smp_call(unsigned source, unsigned target, service_group g, F fn, semaphore::units units,
           Handler handler)
      : smp_message(source, target, g),
        fn_(std::in_place, std::move(fn)),
        units_(std::move(units)),
        handler_(std::move(handler)) {}

  void execute() override {
    constexpr bool async_fn = is_awaitable<std::invoke_result_t<F&>>::value;
    auto& rt = runtime::current();
    auto& sem = rt.core(core_id(target())).group_units(group());
    if (!async_fn) {
      if (auto u = sem.try_acquire(1)) {
        run_sync();
        rt.send_response(this);
        return;
      }
    }
    asio::co_spawn(rt.core(core_id(target())).executor(), run_async(sem),
                   [this](std::exception_ptr e) {
                     if (e) error_ = e;
                     runtime::current().send_response(this);
                   });
  }

  void complete() override {
    units_.release();  // first, so a sender waiting for this channel can proceed
    auto handler = std::move(handler_);
    auto error = error_;
    auto value = std::move(value_);
    delete this;
    std::move(handler)(error_code{}, error, std::move(value));
  }

 private:
  // The function object (and whatever it captured) is destroyed on the target, where it ran.
  void run_sync() {
    try {
      if constexpr (!is_awaitable<std::invoke_result_t<F&>>::value) {
        if constexpr (std::is_void_v<call_result_t<F>>) {
          (*fn_)();
          value_.emplace();
        } else {
          value_.emplace((*fn_)());
        }
      }
    } catch (...) {
      error_ = std::current_exception();
    }
    fn_.reset();
  }

  awaitable<void> run_async(semaphore& sem) {
    struct reset_on_exit {
      std::optional<F>& fn;
      ~reset_on_exit() { fn.reset(); }
    } guard{fn_};
    auto u = co_await sem.acquire(1);
    if (!u) throw boost::system::system_error(u.error());
    value_.emplace(co_await call_here(*fn_));
  }

  std::optional<F> fn_;
  semaphore::units units_;
  Handler handler_;
  std::exception_ptr error_;
  std::optional<value_t> value_;
};

template <typename F>
using submit_signature = void(error_code, std::exception_ptr,
                              std::optional<value_or_monostate_t<call_result_t<F>>>);

struct initiate_submit {
  template <typename Handler, typename F>
  void operator()(Handler handler, core_id target, F fn, submit_options opts) const {
    auto source = this_core();
    auto& rt = runtime::current();
    auto& ch = rt.channel_between(source.value(), target.value());
    // Fast path: a channel unit is free, so the message goes out now, with no coroutine.
    if (auto units = ch.units.try_acquire(1)) {
      send(rt, source, target, std::move(fn), opts, std::move(*units), std::move(handler));
      return;
    }
    // Slow path: the channel is full; wait for a unit in a coroutine of our own.
    auto ex = rt.local().executor();
    asio::co_spawn(
        ex,
        [&ch, &rt, source, target, opts, fn = std::move(fn),
         handler = std::move(handler)]() mutable -> awaitable<void> {
          auto units = co_await ch.units.acquire(1, opts.queue_timeout);
          if (!units) {
            std::move(handler)(units.error(), nullptr, std::nullopt);
            co_return;
          }
          send(rt, source, target, std::move(fn), opts, std::move(*units), std::move(handler));
        },
        asio::detached);
  }

  template <typename Handler, typename F>
  static void send(runtime& rt, core_id source, core_id target, F fn, submit_options opts,
                   semaphore::units units, Handler handler) {
    auto* m = new smp_call<F, Handler>(source.value(), target.value(), opts.group, std::move(fn),
                                       std::move(units), std::move(handler));
    rt.send_request(m);
  }
};

/// The asynchronous operation behind submit_to: completes with (error_code, exception_ptr,
/// optional<value>). Call only for a target other than the calling core.
template <typename F, typename Token>
auto async_submit(core_id target, F fn, submit_options opts, Token&& token) {
  return asio::async_initiate<Token, submit_signature<F>>(initiate_submit{}, token, target,
                                                          std::move(fn), opts);
}

}  // namespace detail_smp

/// Runs fn on `target`; errc::timeout if no channel unit came within opts.queue_timeout,
/// errc::broken when the runtime is stopping. Exceptions from fn propagate.
template <typename F>
awaitable<result<value_or_monostate_t<call_result_t<F>>>> try_submit_to(core_id target, F fn,
                                                                        submit_options opts = {}) {
  using value_t = value_or_monostate_t<call_result_t<F>>;
  if (target == this_core()) co_return value_result<value_t>(co_await detail_smp::call_here(fn));
  auto [ec, error, value] =
      co_await detail_smp::async_submit(target, std::move(fn), opts, use_nothrow_awaitable);
  if (error) std::rethrow_exception(error);
  if (ec) co_return error_result<value_t>(ec);
  co_return value_result<value_t>(std::move(*value));
}

/// Runs fn on `target` and returns its result. Queue timeouts and shutdown throw system_error.
template <typename F>
awaitable<call_result_t<F>> submit_to(core_id target, F fn, submit_options opts = {}) {
  if (target == this_core()) {
    if constexpr (std::is_void_v<call_result_t<F>>) {
      co_await detail_smp::call_here(fn);
      co_return;
    } else {
      co_return co_await detail_smp::call_here(fn);
    }
  }
  auto [ec, error, value] =
      co_await detail_smp::async_submit(target, std::move(fn), opts, use_nothrow_awaitable);
  if (error) std::rethrow_exception(error);
  if (ec) throw boost::system::system_error(ec);
  if constexpr (!std::is_void_v<call_result_t<F>>) co_return std::move(*value);
}

/// Runs make(i) for i in [0, n) concurrently on this core and waits for all of them. The first
/// exception is rethrown after every task has finished.
template <typename Make>
awaitable<void> parallel_for(size_t n, Make make) {
  if (n == 0) co_return;
  struct state {
    size_t remaining;
    std::exception_ptr first_error;
    event done;
  };
  auto st = std::make_shared<state>();
  st->remaining = n;
  auto ex = co_await asio::this_coro::executor;
  for (size_t i = 0; i < n; ++i) {
    asio::co_spawn(ex, make(i), [st](std::exception_ptr e) {
      if (e && !st->first_error) st->first_error = e;
      if (--st->remaining == 0) st->done.set();
    });
  }
  co_await st->done.wait();
  if (st->first_error) std::rethrow_exception(st->first_error);
}

/// Runs a copy of fn on every core at once; waits for all.
template <typename F>
awaitable<void> invoke_on_all(F fn, submit_options opts = {}) {
  auto& rt = runtime::current();
  co_await parallel_for(rt.core_count(), [&](size_t i) -> awaitable<void> {
    co_await submit_to(core_id(static_cast<unsigned>(i)), fn, opts);
  });
}

/// Runs mapper() on every core at once and folds the results on the caller, in core order:
/// acc = reducer(std::move(acc), result_of_core_i).
template <typename Mapper, typename T, typename Reducer>
awaitable<T> map_reduce(Mapper mapper, T initial, Reducer reducer, submit_options opts = {}) {
  auto& rt = runtime::current();
  using mapped_t = call_result_t<Mapper>;
  std::vector<std::optional<mapped_t>> results(rt.core_count());
  co_await parallel_for(rt.core_count(), [&](size_t i) -> awaitable<void> {
    results[i].emplace(co_await submit_to(core_id(static_cast<unsigned>(i)), mapper, opts));
  });
  for (auto& r : results) initial = reducer(std::move(initial), std::move(*r));
  co_return initial;
}

}  // namespace shoal::rt
