#include "engine/runtime/reactor.h"

#include <pthread.h>
#include <sched.h>
#include <string>

#include "engine/common/logger.h"
#include "engine/common/thread_context.h"
#include "engine/runtime/idle_poll.h"
#include "engine/runtime/runtime.h"

namespace shoal::rt {
namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

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
    run_loop();
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
  // Dekker with run_loop(): the sender has pushed (a store to a ring's tail) and now reads
  // sleeping_; the reactor sets sleeping_ and then reads the rings. With a full fence on both
  // sides at least one of them sees the other's store, so a message is never left unnoticed.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!sleeping_.load(std::memory_order_relaxed)) return;  // awake: it will find the message
  if (!doorbell_pending_.exchange(true, std::memory_order_seq_cst)) {
    doorbells_.fetch_add(1, std::memory_order_relaxed);
    asio::post(ioc_, [this] { drain_inbox(); });
  }
}

void reactor::drain_inbox() {
  doorbell_pending_.store(false, std::memory_order_seq_cst);
  bool did_work = false;
  owner_.drain(id_.value(), drain_start_, kDrainBatch, did_work);
}

bool reactor::poll_rings(std::chrono::steady_clock::duration budget) {
  const unsigned me = id_.value();
  auto since = std::chrono::steady_clock::now();
  auto until = since + budget;
  bool found = false;
  // Only the rings are polled here: they are plain memory reads, while io_context::poll() would
  // make a system call every time. The clock is read once every kClockEvery polls: a read costs
  // more than a poll of the rings.
  for (unsigned i = 1; !(found = owner_.has_inbound(me)); ++i) {
    cpu_relax();
    if (i % kClockEvery == 0 && std::chrono::steady_clock::now() >= until) break;
  }
  auto polled = std::chrono::steady_clock::now() - since;
  idle_poll_ns_.fetch_add(
      uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(polled).count()),
      std::memory_order_relaxed);
  return found;
}

void reactor::run_loop() {
  const std::chrono::nanoseconds cap = owner_.config().idle_poll;
  // With one core no ring can ever fill: spinning would only burn the CPU (a client or the
  // kernel's network work may need it).
  const bool may_poll = cap.count() > 0 && owner_.core_count() > 1;
  idle_poll_policy policy(cap);
  const unsigned me = id_.value();
  while (!ioc_.stopped()) {
    ioc_.poll();  // ready handlers, timers, and one non-blocking look at epoll
    if (ioc_.stopped()) break;
    bool did_work = false;
    // A bounded batch per round keeps I/O and timers on this core from starving.
    owner_.drain(me, drain_start_, kDrainBatch, did_work);
    if (did_work) continue;

    if (may_poll) {
      const bool reply_due = replies_due_ > 0;
      if (auto budget = policy.budget(reply_due); budget.count() > 0) {
        if (poll_rings(budget)) continue;
        if (!reply_due) policy.missed();
      }
    }

    sleeping_.store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (owner_.has_inbound(me)) {
      sleeping_.store(false, std::memory_order_relaxed);
      continue;
    }
    auto bells = doorbells_.load(std::memory_order_relaxed);
    auto slept_at = std::chrono::steady_clock::now();
    ioc_.run_one();  // sleeps until a handler is ready: I/O, a timer, or a doorbell
    sleeping_.store(false, std::memory_order_relaxed);
    if (may_poll && doorbells_.load(std::memory_order_relaxed) != bells) {
      policy.woken_by_message(std::chrono::steady_clock::now() - slept_at);
    }
  }
}

}  // namespace shoal::rt
