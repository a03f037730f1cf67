#pragma once
// Reports a core that has not returned to its event loop for longer than a threshold (PRACTICES
// P4): a handler that runs too long delays every other request on its core. Each reactor bumps a
// heartbeat from a periodic timer; a watchdog thread checks the heartbeats and, for a core that
// is late, logs a warning and signals that thread to print its backtrace to stderr, once per
// stall. Runs in every build mode.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace shoal::rt {

class reactor;

class stall_detector {
 public:
  stall_detector(std::vector<reactor*> cores, std::chrono::milliseconds threshold);
  ~stall_detector();
  /// `threads[i]` is the native handle of core i's thread.
  void start(std::vector<std::thread::native_handle_type> threads);
  void stop();
  uint64_t reported() const { return reported_.load(std::memory_order_relaxed); }

 private:
  void watch();

  std::vector<reactor*> cores_;
  std::vector<std::thread::native_handle_type> threads_;
  std::chrono::milliseconds threshold_;
  std::thread watchdog_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<uint64_t> reported_{0};
};

}  // namespace shoal::rt
