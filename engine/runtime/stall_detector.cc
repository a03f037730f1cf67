#include "engine/runtime/stall_detector.h"

#include <cstring>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "engine/common/logger.h"
#include "engine/common/thread_context.h"
#include "engine/runtime/reactor.h"

namespace shoal::rt {
namespace {

int backtrace_signal() {
  return SIGRTMIN + 1;
}

// Async-signal-safe enough: backtrace() was called once at start (so libgcc is loaded) and
// backtrace_symbols_fd writes without allocating.
void print_backtrace(int) {
  char header[64];
  int core = detail::this_core_index;
  int n = 0;
  const char prefix[] = "shoal: stalled core backtrace, core ";
  std::memcpy(header, prefix, sizeof prefix - 1);
  n = sizeof prefix - 1;
  if (core >= 100) header[n++] = static_cast<char>('0' + core / 100 % 10);
  if (core >= 10) header[n++] = static_cast<char>('0' + core / 10 % 10);
  header[n++] = static_cast<char>('0' + (core < 0 ? 0 : core % 10));
  header[n++] = '\n';
  (void)!::write(STDERR_FILENO, header, static_cast<size_t>(n));
  void* frames[48];
  int depth = ::backtrace(frames, 48);
  ::backtrace_symbols_fd(frames, depth, STDERR_FILENO);
}

}  // namespace

stall_detector::stall_detector(std::vector<reactor*> cores, std::chrono::milliseconds threshold)
    : cores_(std::move(cores)), threshold_(threshold) {}

stall_detector::~stall_detector() {
  stop();
}

void stall_detector::start(std::vector<std::thread::native_handle_type> threads) {
  threads_ = std::move(threads);
  void* warmup[2];
  ::backtrace(warmup, 2);
  struct sigaction sa {};
  sa.sa_handler = print_backtrace;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(backtrace_signal(), &sa, nullptr);
  watchdog_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "shoal-stalls");
    watch();
  });
}

void stall_detector::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void stall_detector::watch() {
  auto& log = logging::get("runtime");
  std::vector<bool> reported_stall(cores_.size(), false);
  auto period = std::max(threshold_ / 4, std::chrono::milliseconds(1));
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [&] { return stopping_; })) {
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    for (size_t i = 0; i < cores_.size(); ++i) {
      int64_t beat = cores_[i]->last_heartbeat_ns();
      if (beat == 0) continue;  // not started yet
      auto late_ms = (now_ns - beat) / 1'000'000;
      if (late_ms <= threshold_.count()) {
        reported_stall[i] = false;
        continue;
      }
      if (reported_stall[i]) continue;
      reported_stall[i] = true;
      reported_.fetch_add(1, std::memory_order_relaxed);
      log.warn("core {} has not returned to its event loop for {} ms (threshold {} ms)", i, late_ms,
               threshold_.count());
      if (i < threads_.size()) ::pthread_kill(threads_[i], backtrace_signal());
    }
  }
}

}  // namespace shoal::rt
