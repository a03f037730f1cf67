#include "engine/runtime/reactor.h"

#include <pthread.h>
#include <sched.h>
#include <string>

#include "engine/common/logger.h"
#include "engine/common/thread_context.h"
#include "engine/runtime/runtime.h"

namespace shoal::rt {

reactor::reactor(runtime& owner, core_id id, size_t group_limit, size_t blocking_limit)
    : owner_(owner), id_(id), blocking_units_(blocking_limit, 100000, "blocking pool") {
  for (size_t g = 0; g < kServiceGroups; ++g) {
    auto limit =
        static_cast<service_group>(g) == service_group::unlimited ? size_t{1} << 40 : group_limit;
    group_units_[g] = std::make_unique<semaphore>(
        limit, 100000, std::string(service_group_name(static_cast<service_group>(g))));
  }
}

void reactor::start(std::optional<int> cpu) {
  work_.emplace(ioc_.get_executor());
  thread_ = std::thread([this, cpu] {
    detail::this_core_index = static_cast<int>(id_.value());
    logging::register_core_thread(detail::this_core_index);
    std::string name = "shoal-c" + std::to_string(id_.value());
    ::pthread_setname_np(::pthread_self(), name.c_str());
    if (cpu) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(*cpu, &set);
      if (::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) != 0) {
        logging::get("runtime").warn("could not pin core {} to cpu {}", id_, *cpu);
      }
    }
    heartbeat_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    heartbeat();
    ioc_.run();
    heartbeat_timer_.reset();
    detail::this_core_index = -1;
  });
}

void reactor::heartbeat() {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  heartbeat_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(),
                      std::memory_order_relaxed);
  auto period = std::max(owner_.config().stall_threshold / 4, std::chrono::milliseconds(1));
  heartbeat_timer_->expires_after(period);
  heartbeat_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) heartbeat();
  });
}

void reactor::request_stop() {
  asio::post(ioc_, [this] {
    if (heartbeat_timer_) heartbeat_timer_->cancel();
    work_.reset();
    ioc_.stop();
  });
}

void reactor::join() {
  if (thread_.joinable()) thread_.join();
}

void reactor::ring_doorbell() {
  // Pairs with the fence in drain_inbox(): either we see the drain's reset and post a new one,
  // or the pending drain sees the message we pushed before calling this (PRACTICES A4).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!doorbell_pending_.exchange(true, std::memory_order_seq_cst)) {
    doorbells_.fetch_add(1, std::memory_order_relaxed);
    asio::post(ioc_, [this] { drain_inbox(); });
  }
}

void reactor::drain_inbox() {
  doorbell_pending_.store(false, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // A bounded batch per handler keeps other work on this core (I/O, timers) from starving.
  constexpr size_t kBatch = 512;
  if (!owner_.drain(id_.value(), drain_start_, kBatch)) ring_doorbell();
}

}  // namespace shoal::rt
