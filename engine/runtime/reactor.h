#pragma once
// One core: a thread pinned to one CPU running one io_context (concurrency hint 1, PRACTICES P14).
//
// Cross-core messages do not go through io_context::post: they sit in per-pair SPSC rings
// (runtime.h). The reactor's loop runs ready handlers (io_context::poll), drains its rings, and
// when both are empty keeps polling the rings for a while (idle_poll.h: up to `idle_poll` when a
// reply is due, adaptively otherwise) before it sleeps in epoll (io_context::run_one); a runtime
// of one core has no rings to poll and sleeps at once. A sender
// rings the doorbell only when the reactor sleeps (or is about to): one post wakes it, however many
// messages follow (PRACTICES A4). Everything here but ring_doorbell() and the atomics is touched
// only by the reactor's thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "engine/common/named_type.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/semaphore.h"
#include "engine/runtime/service_group.h"

namespace shoal::rt {

class runtime;

class reactor {
 public:
  reactor(runtime& owner, core_id id, size_t group_limit, size_t blocking_limit);
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  core_id id() const { return id_; }
  asio::io_context& context() { return ioc_; }
  asio::io_context::executor_type executor() { return ioc_.get_executor(); }

  /// Any thread: there is work for this core in its rings.
  void ring_doorbell();

  /// Core-local: caps remote requests per service group running here.
  semaphore& group_units(service_group g) { return *group_units_[static_cast<size_t>(g)]; }
  /// Core-local: caps this core's jobs in the blocking pool.
  semaphore& blocking_units() { return blocking_units_; }

  // For the stall detector (other thread).
  int64_t last_heartbeat_ns() const { return heartbeat_ns_.load(std::memory_order_relaxed); }
  uint64_t messages_executed() const { return executed_.load(std::memory_order_relaxed); }
  uint64_t doorbells() const { return doorbells_.load(std::memory_order_relaxed); }
  /// Time spent polling the rings while idle (runtime.idle-poll), in ns: CPU time that did no
  /// work, which a CPU-time account of the server's work must leave out.
  uint64_t idle_poll_ns() const { return idle_poll_ns_.load(std::memory_order_relaxed); }

 private:
  friend class runtime;
  void start(std::optional<int> cpu);
  void request_stop();
  void join();
  void drain_inbox();
  void run_loop();
  /// Polls the rings for up to `budget`; true if a message came.
  bool poll_rings(std::chrono::steady_clock::duration budget);
  void heartbeat();

  static constexpr size_t kDrainBatch = 512;
  static constexpr unsigned kClockEvery = 16;  // idle polls of the rings per clock read
  runtime& owner_;
  core_id id_;
  asio::io_context ioc_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<asio::steady_timer> heartbeat_timer_;
  std::array<std::unique_ptr<semaphore>, kServiceGroups> group_units_;
  semaphore blocking_units_;
  std::thread thread_;
  unsigned drain_start_ = 0;
  uint32_t replies_due_ = 0;  // requests this core sent whose responses have not come back
  alignas(64) std::atomic<bool> doorbell_pending_{false};
  std::atomic<bool> sleeping_{false};  // in (or entering) io_context::run_one
  std::atomic<int64_t> heartbeat_ns_{0};
  std::atomic<uint64_t> executed_{0};
  std::atomic<uint64_t> doorbells_{0};
  std::atomic<uint64_t> idle_poll_ns_{0};
};

}  // namespace shoal::rt
