#pragma once
// The thread-per-core runtime (ARCHITECTURE.md §1): N reactors, the bounded channels between every
// pair of them, a small blocking pool for syscalls that block, and a stall detector.
//
// Lifecycle: construct, then run(main) on the calling thread. run() starts one pinned thread per
// core, runs `main` as a coroutine on core 0 and returns after main finishes and every core has
// stopped; main's exception, if any, is rethrown there. main is responsible for stopping its
// services (closing gates) before it returns; whatever is still queued afterwards is destroyed.
//
// Cross-core calls live in smp.h. Each (source, target) pair has a channel: a request ring, a
// response ring and a semaphore on the source with one unit per message in flight, so neither
// ring can overflow and a sender that outruns its target waits (backpressure) instead of growing
// a queue.

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "engine/common/named_type.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/core_id.h"
#include "engine/runtime/reactor.h"
#include "engine/runtime/semaphore.h"
#include "engine/runtime/smp_message.h"
#include "engine/runtime/spsc_ring.h"

namespace shoal::rt {

class blocking_pool;
class stall_detector;

struct runtime_config {
  unsigned cores = 0;             // 0: one per CPU this process may run on
  bool pin_threads = true;        // pin core i to the i-th allowed CPU
  size_t channel_depth = 128;     // messages in flight per (source, target) pair
  size_t group_limit = 256;       // remote requests per service group running on one core
  unsigned blocking_threads = 2;  // threads of the blocking pool
  size_t blocking_per_core = 64;  // one core's jobs in the blocking pool at once
  std::chrono::milliseconds stall_threshold{200};  // report a core that does not yield this long
  // An idle core keeps polling its channels this long before it sleeps in epoll: a message that
  // arrives meanwhile costs no wake-up (tens of microseconds on a VM). 0 = sleep at once.
  std::chrono::microseconds idle_poll{50};
};

class runtime {
 public:
  explicit runtime(runtime_config cfg);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Blocks the calling thread: runs `main` on core 0 until it completes, then stops every core.
  void run(std::function<awaitable<void>()> main);

  /// The running runtime (valid on any thread between the start and the end of run()).
  static runtime& current();

  unsigned core_count() const { return static_cast<unsigned>(reactors_.size()); }
  reactor& core(core_id c) { return *reactors_[c.value()]; }
  reactor& local() { return *reactors_[this_core().value()]; }
  blocking_pool& blocking() { return *blocking_; }
  const runtime_config& config() const { return cfg_; }
  uint64_t stalls_reported() const;

  /// Number of CPUs this process may run on (its affinity mask).
  static unsigned available_cpus();

  // ---- used by smp.h ----
  struct channel {
    explicit channel(size_t depth)
        : requests(depth), responses(depth), units(depth, 1000000, "smp channel") {}
    spsc_ring<smp_message*> requests;   // source -> target
    spsc_ring<smp_message*> responses;  // target -> source
    semaphore units;                    // source core only
  };
  channel& channel_between(unsigned source, unsigned target) {
    return *channels_[source * core_count() + target];
  }
  void send_request(smp_message* m);   // on the source core, holding a unit
  void send_response(smp_message* m);  // on the target core
  /// Posts `fn` to `target` outside the bounded channels. Only for destruction of foreign
  /// objects (foreign_ptr), whose number is bounded by the objects that exist.
  void post_to(core_id target, std::function<void()> fn);

 private:
  friend class reactor;
  /// Executes requests and completes responses addressed to `me`; false if the budget ran out.
  /// `did_work` tells whether anything was found.
  bool drain(unsigned me, unsigned& start, size_t budget, bool& did_work);
  /// True if a request or response for `me` waits in some channel.
  bool has_inbound(unsigned me);
  void stop_all();
  void destroy_pending();

  runtime_config cfg_;
  std::vector<std::unique_ptr<reactor>> reactors_;
  std::vector<std::unique_ptr<channel>> channels_;
  std::unique_ptr<blocking_pool> blocking_;
  std::unique_ptr<stall_detector> stall_detector_;
  std::exception_ptr main_error_;
  std::atomic<bool> stopping_{false};
};

}  // namespace shoal::rt
